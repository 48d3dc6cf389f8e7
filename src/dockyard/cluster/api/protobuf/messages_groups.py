"""Field tables (see :mod:`.schema` for the notation) for the named API groups' messages.

Written from the published definitions in k8s.io/api: apps/v1, batch/v1, rbac/v1, networking/v1,
autoscaling/v1 and v2, scheduling/v1, policy/v1, authorization/v1, authentication/v1.  Names that two groups share are
prefixed with their version (``V1…``/``V2…``).  Status messages list only the fields a client
can send on create (kubectl sends them empty).
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # apps/v1
    "Deployment": "1 metadata ObjectMeta; 2 spec DeploymentSpec; 3 status DeploymentStatus",
    "DeploymentSpec": "1 replicas int32?; 2 selector LabelSelector; 3 template PodTemplateSpec;"
                      "4 strategy DeploymentStrategy; 5 minReadySeconds int32; 6 revisionHistoryLimit int32?;"
                      "7 paused bool; 9 progressDeadlineSeconds int32?",
    "DeploymentStrategy": "1 type string; 2 rollingUpdate RollingUpdateDeployment",
    "RollingUpdateDeployment": "1 maxUnavailable IntOrString; 2 maxSurge IntOrString",
    "DeploymentStatus": "1 observedGeneration int64; 2 replicas int32; 3 updatedReplicas int32;"
                        "4 availableReplicas int32; 5 unavailableReplicas int32; 7 readyReplicas int32;"
                        "8 collisionCount int32?; 9 terminatingReplicas int32?",
    # batch/v1
    "Job": "1 metadata ObjectMeta; 2 spec JobSpec; 3 status JobStatus",
    "JobSpec": "1 parallelism int32?; 2 completions int32?; 3 activeDeadlineSeconds int64?; 4 selector LabelSelector;"
               "5 manualSelector bool?; 6 template PodTemplateSpec; 7 backoffLimit int32?;"
               "8 ttlSecondsAfterFinished int32?; 9 completionMode string?; 10 suspend bool?;"
               "12 backoffLimitPerIndex int32?; 13 maxFailedIndexes int32?; 14 podReplacementPolicy string?;"
               "15 managedBy string?",
    "JobStatus": "2 startTime Time; 3 completionTime Time; 4 active int32; 5 succeeded int32; 6 failed int32;"
                 "7 completedIndexes string; 9 ready int32?; 10 failedIndexes string?; 11 terminating int32?",
    "JobTemplateSpec": "1 metadata ObjectMeta; 2 spec JobSpec",
    "CronJob": "1 metadata ObjectMeta; 2 spec CronJobSpec; 3 status CronJobStatus",
    "CronJobSpec": "1 schedule string; 2 startingDeadlineSeconds int64?; 3 concurrencyPolicy string; 4 suspend bool?;"
                   "5 jobTemplate JobTemplateSpec; 6 successfulJobsHistoryLimit int32?;"
                   "7 failedJobsHistoryLimit int32?; 8 timeZone string?",
    "CronJobStatus": "1 active []ObjectReference; 4 lastScheduleTime Time; 5 lastSuccessfulTime Time",
    # rbac.authorization.k8s.io/v1
    "Role": "1 metadata ObjectMeta; 2 rules []PolicyRule",
    "ClusterRole": "1 metadata ObjectMeta; 2 rules []PolicyRule; 3 aggregationRule AggregationRule",
    "PolicyRule": "1 verbs []string; 2 apiGroups []string; 3 resources []string; 4 resourceNames []string;"
                  "5 nonResourceURLs []string",
    "AggregationRule": "1 clusterRoleSelectors []LabelSelector",
    "RoleBinding": "1 metadata ObjectMeta; 2 subjects []Subject; 3 roleRef RoleRef",
    "ClusterRoleBinding": "1 metadata ObjectMeta; 2 subjects []Subject; 3 roleRef RoleRef",
    "Subject": "1 kind string; 2 apiGroup string; 3 name string; 4 namespace string",
    "RoleRef": "1 apiGroup string; 2 kind string; 3 name string",
    # networking.k8s.io/v1
    "Ingress": "1 metadata ObjectMeta; 2 spec IngressSpec; 3 status IngressStatus",
    "IngressSpec": "1 defaultBackend IngressBackend; 2 tls []IngressTLS; 3 rules []IngressRule;"
                   "4 ingressClassName string?",
    "IngressBackend": "4 service IngressServiceBackend",
    "IngressServiceBackend": "1 name string; 2 port ServiceBackendPort",
    "ServiceBackendPort": "1 name string; 2 number int32",
    "IngressRule": "1 host string; 2 * IngressRuleValue",
    "IngressRuleValue": "1 http HTTPIngressRuleValue",
    "HTTPIngressRuleValue": "1 paths []HTTPIngressPath",
    "HTTPIngressPath": "1 path string; 2 backend IngressBackend; 3 pathType string?",
    "IngressTLS": "1 hosts []string; 2 secretName string",
    "IngressStatus": "1 loadBalancer IngressLoadBalancerStatus",
    "IngressLoadBalancerStatus": "1 ingress []IngressLoadBalancerIngress",
    "IngressLoadBalancerIngress": "1 ip string; 2 hostname string",
    # autoscaling/v1
    "V1Scale": "1 metadata ObjectMeta; 2 spec V1ScaleSpec; 3 status V1ScaleStatus",
    "V1ScaleSpec": "1 replicas int32",
    "V1ScaleStatus": "1 replicas int32; 2 selector string",
    "V1HorizontalPodAutoscaler": "1 metadata ObjectMeta; 2 spec V1HorizontalPodAutoscalerSpec;"
                                 "3 status V1HorizontalPodAutoscalerStatus",
    "V1HorizontalPodAutoscalerSpec": "1 scaleTargetRef CrossVersionObjectReference; 2 minReplicas int32?;"
                                     "3 maxReplicas int32; 4 targetCPUUtilizationPercentage int32?",
    "V1HorizontalPodAutoscalerStatus": "1 observedGeneration int64?; 2 lastScaleTime Time; 3 currentReplicas int32?;"
                                       "4 desiredReplicas int32?; 5 currentCPUUtilizationPercentage int32?",
    "CrossVersionObjectReference": "1 kind string; 2 name string; 3 apiVersion string",
    # autoscaling/v2
    "V2HorizontalPodAutoscaler": "1 metadata ObjectMeta; 2 spec V2HorizontalPodAutoscalerSpec;"
                                 "3 status V2HorizontalPodAutoscalerStatus",
    "V2HorizontalPodAutoscalerSpec": "1 scaleTargetRef CrossVersionObjectReference; 2 minReplicas int32?;"
                                     "3 maxReplicas int32; 4 metrics []V2MetricSpec",
    "V2MetricSpec": "1 type string; 4 resource V2ResourceMetricSource",
    "V2ResourceMetricSource": "1 name string; 2 target V2MetricTarget",
    "V2MetricTarget": "1 type string; 2 value Quantity; 3 averageValue Quantity; 4 averageUtilization int32?",
    "V2HorizontalPodAutoscalerStatus": "1 observedGeneration int64?; 2 lastScaleTime Time; 3 currentReplicas int32;"
                                       "4 desiredReplicas int32?",
    # scheduling.k8s.io/v1, policy/v1
    "PriorityClass": "1 metadata ObjectMeta; 2 value int32?; 3 globalDefault bool; 4 description string;"
                     "5 preemptionPolicy string?",
    "PodDisruptionBudget": "1 metadata ObjectMeta; 2 spec PodDisruptionBudgetSpec; 3 status PodDisruptionBudgetStatus",
    "PodDisruptionBudgetSpec": "1 minAvailable IntOrString; 2 selector LabelSelector; 3 maxUnavailable IntOrString;"
                               "4 unhealthyPodEvictionPolicy string?",
    "PodDisruptionBudgetStatus": "1 observedGeneration int64; 2 disruptedPods {}Time; 3 disruptionsAllowed int32?;"
                                 "4 currentHealthy int32?; 5 desiredHealthy int32?; 6 expectedPods int32?",
    # authorization.k8s.io/v1 and authentication.k8s.io/v1 (kubectl auth can-i / whoami)
    "SelfSubjectAccessReview": "1 metadata ObjectMeta; 2 spec SelfSubjectAccessReviewSpec;"
                               "3 status SubjectAccessReviewStatus",
    "SelfSubjectAccessReviewSpec": "1 resourceAttributes ResourceAttributes; 2 nonResourceAttributes NonResourceAttributes",
    "ResourceAttributes": "1 namespace string; 2 verb string; 3 group string; 4 version string; 5 resource string;"
                          "6 subresource string; 7 name string",
    "NonResourceAttributes": "1 path string; 2 verb string",
    "SubjectAccessReviewStatus": "1 allowed bool; 2 reason string; 3 evaluationError string; 4 denied bool",
    "SelfSubjectRulesReview": "1 metadata ObjectMeta; 2 spec SelfSubjectRulesReviewSpec",
    "SelfSubjectRulesReviewSpec": "1 namespace string",
    "SelfSubjectReview": "1 metadata ObjectMeta; 2 status SelfSubjectReviewStatus",
    "SelfSubjectReviewStatus": "1 userInfo UserInfo",
    "UserInfo": "1 username string; 2 uid string; 3 groups []string",
    "TokenRequest": "1 metadata ObjectMeta; 2 spec TokenRequestSpec; 3 status TokenRequestStatus",
    "TokenRequestSpec": "1 audiences []string; 3 boundObjectRef BoundObjectReference; 4 expirationSeconds int64?",
    "BoundObjectReference": "1 kind string; 2 apiVersion string; 3 name string; 4 uid string",
    "TokenRequestStatus": "1 token string?; 2 expirationTimestamp Time",
}

KINDS: dict[tuple[str, str], str] = {
    ("apps/v1", "Deployment"): "Deployment",
    ("batch/v1", "Job"): "Job",
    ("batch/v1", "CronJob"): "CronJob",
    ("rbac.authorization.k8s.io/v1", "Role"): "Role",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "ClusterRole",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "RoleBinding",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "ClusterRoleBinding",
    ("networking.k8s.io/v1", "Ingress"): "Ingress",
    ("autoscaling/v1", "Scale"): "V1Scale",
    ("autoscaling/v1", "HorizontalPodAutoscaler"): "V1HorizontalPodAutoscaler",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "V2HorizontalPodAutoscaler",
    ("scheduling.k8s.io/v1", "PriorityClass"): "PriorityClass",
    ("policy/v1", "PodDisruptionBudget"): "PodDisruptionBudget",
    ("authentication.k8s.io/v1", "TokenRequest"): "TokenRequest",
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): "SelfSubjectAccessReview",
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): "SelfSubjectRulesReview",
    ("authentication.k8s.io/v1", "SelfSubjectReview"): "SelfSubjectReview",
}
