"""Field tables (see :mod:`.schema` for the notation) for meta/v1 and core/v1 messages.

Written from the published definitions of k8s.io/apimachinery (meta/v1) and k8s.io/api (core/v1).
Coverage: what kubectl's typed commands send (``create namespace|configmap|secret|serviceaccount|
service``, the pod template of ``create deployment|job|cronjob``) and the common neighbours of
those messages; a message not listed here is reported when met, never skipped.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # meta/v1
    "ObjectMeta": "1 name string; 2 generateName string; 3 namespace string; 4 selfLink string; 5 uid string;"
                  "6 resourceVersion string; 7 generation int64; 8 creationTimestamp Time; 9 deletionTimestamp Time;"
                  "10 deletionGracePeriodSeconds int64?; 11 labels {}string; 12 annotations {}string;"
                  "13 ownerReferences []OwnerReference; 14 finalizers []string; 17 managedFields []ManagedFieldsEntry",
    "OwnerReference": "1 kind string; 3 name string; 4 uid string; 5 apiVersion string; 6 controller bool?;"
                      "7 blockOwnerDeletion bool?",
    "ManagedFieldsEntry": "1 manager string; 2 operation string; 3 apiVersion string; 4 time Time;"
                          "6 fieldsType string; 7 fieldsV1 RawExtension; 8 subresource string",
    "LabelSelector": "1 matchLabels {}string; 2 matchExpressions []LabelSelectorRequirement",
    "LabelSelectorRequirement": "1 key string; 2 operator string; 3 values []string",
    # core/v1 kinds
    "ConfigMap": "1 metadata ObjectMeta; 2 data {}string; 3 binaryData {}bytes; 4 immutable bool?",
    "Secret": "1 metadata ObjectMeta; 2 data {}bytes; 3 type string; 4 stringData {}string; 5 immutable bool?",
    "Namespace": "1 metadata ObjectMeta; 2 spec NamespaceSpec; 3 status NamespaceStatus",
    "NamespaceSpec": "1 finalizers []string",
    "NamespaceStatus": "1 phase string",
    "ServiceAccount": "1 metadata ObjectMeta; 2 secrets []ObjectReference; 3 imagePullSecrets []LocalObjectReference;"
                      "4 automountServiceAccountToken bool?",
    "ObjectReference": "1 kind string; 2 namespace string; 3 name string; 4 uid string; 5 apiVersion string;"
                       "6 resourceVersion string; 7 fieldPath string",
    "LocalObjectReference": "1 name string",
    "Service": "1 metadata ObjectMeta; 2 spec ServiceSpec; 3 status ServiceStatus",
    "ServiceSpec": "1 ports []ServicePort; 2 selector {}string; 3 clusterIP string; 4 type string;"
                   "5 externalIPs []string; 7 sessionAffinity string; 8 loadBalancerIP string;"
                   "9 loadBalancerSourceRanges []string; 10 externalName string; 11 externalTrafficPolicy string;"
                   "12 healthCheckNodePort int32; 13 publishNotReadyAddresses bool;"
                   "14 sessionAffinityConfig SessionAffinityConfig; 17 ipFamilyPolicy string?; 18 clusterIPs []string;"
                   "19 ipFamilies []string; 20 allocateLoadBalancerNodePorts bool?; 21 loadBalancerClass string?;"
                   "22 internalTrafficPolicy string?; 23 trafficDistribution string?",
    "ServicePort": "1 name string; 2 protocol string; 3 port int32; 4 targetPort IntOrString; 5 nodePort int32;"
                   "6 appProtocol string?",
    "SessionAffinityConfig": "1 clientIP ClientIPConfig",
    "ClientIPConfig": "1 timeoutSeconds int32?",
    "ServiceStatus": "1 loadBalancer LoadBalancerStatus",
    "LoadBalancerStatus": "1 ingress []LoadBalancerIngress",
    "LoadBalancerIngress": "1 ip string; 2 hostname string; 3 ipMode string?",
    # core/v1 pod template
    "PodTemplateSpec": "1 metadata ObjectMeta; 2 spec PodSpec",
    "PodSpec": "1 volumes []Volume; 2 containers []Container; 3 restartPolicy string;"
               "4 terminationGracePeriodSeconds int64?; 5 activeDeadlineSeconds int64?; 6 dnsPolicy string;"
               "7 nodeSelector {}string; 8 serviceAccountName string; 9 serviceAccount string; 10 nodeName string;"
               "11 hostNetwork bool; 12 hostPID bool; 13 hostIPC bool; 14 securityContext PodSecurityContext;"
               "15 imagePullSecrets []LocalObjectReference; 16 hostname string; 17 subdomain string;"
               "19 schedulerName string; 20 initContainers []Container; 21 automountServiceAccountToken bool?;"
               "22 tolerations []Toleration; 24 priorityClassName string; 25 priority int32?;"
               "27 shareProcessNamespace bool?; 29 runtimeClassName string?; 30 enableServiceLinks bool?;"
               "31 preemptionPolicy string?; 32 overhead {}Quantity; 35 setHostnameAsFQDN bool?; 37 hostUsers bool?;"
               "40 resources ResourceRequirements; 41 hostnameOverride string?",
    "Container": "1 name string; 2 image string; 3 command []string; 4 args []string; 5 workingDir string;"
                 "6 ports []ContainerPort; 7 env []EnvVar; 8 resources ResourceRequirements;"
                 "9 volumeMounts []VolumeMount; 10 livenessProbe Probe; 11 readinessProbe Probe;"
                 "13 terminationMessagePath string; 14 imagePullPolicy string; 15 securityContext SecurityContext;"
                 "16 stdin bool; 17 stdinOnce bool; 18 tty bool; 19 envFrom []EnvFromSource;"
                 "20 terminationMessagePolicy string; 22 startupProbe Probe; 24 restartPolicy string?",
    "ContainerPort": "1 name string; 2 hostPort int32; 3 containerPort int32; 4 protocol string; 5 hostIP string",
    "EnvVar": "1 name string; 2 value string; 3 valueFrom EnvVarSource",
    "EnvVarSource": "1 fieldRef ObjectFieldSelector; 2 resourceFieldRef ResourceFieldSelector;"
                    "3 configMapKeyRef ConfigMapKeySelector; 4 secretKeyRef SecretKeySelector",
    "ObjectFieldSelector": "1 apiVersion string; 2 fieldPath string",
    "ResourceFieldSelector": "1 containerName string; 2 resource string; 3 divisor Quantity",
    "ConfigMapKeySelector": "1 * LocalObjectReference; 2 key string; 3 optional bool?",
    "SecretKeySelector": "1 * LocalObjectReference; 2 key string; 3 optional bool?",
    "EnvFromSource": "1 prefix string; 2 configMapRef ConfigMapEnvSource; 3 secretRef SecretEnvSource",
    "ConfigMapEnvSource": "1 * LocalObjectReference; 2 optional bool?",
    "SecretEnvSource": "1 * LocalObjectReference; 2 optional bool?",
    "ResourceRequirements": "1 limits {}Quantity; 2 requests {}Quantity; 3 claims []ResourceClaim",
    "ResourceClaim": "1 name string; 2 request string",
    "VolumeMount": "1 name string; 2 readOnly bool; 3 mountPath string; 4 subPath string;"
                   "5 mountPropagation string?; 6 subPathExpr string; 7 recursiveReadOnly string?",
    "Volume": "1 name string; 2 * VolumeSource",
    "VolumeSource": "1 hostPath HostPathVolumeSource; 2 emptyDir EmptyDirVolumeSource; 6 secret SecretVolumeSource;"
                    "10 persistentVolumeClaim PersistentVolumeClaimVolumeSource; 19 configMap ConfigMapVolumeSource",
    "HostPathVolumeSource": "1 path string; 2 type string?",
    "EmptyDirVolumeSource": "1 medium string; 2 sizeLimit Quantity",
    "SecretVolumeSource": "1 secretName string; 2 items []KeyToPath; 3 defaultMode int32?; 4 optional bool?",
    "ConfigMapVolumeSource": "1 * LocalObjectReference; 2 items []KeyToPath; 3 defaultMode int32?; 4 optional bool?",
    "PersistentVolumeClaimVolumeSource": "1 claimName string; 2 readOnly bool",
    "KeyToPath": "1 key string; 2 path string; 3 mode int32?",
    "Probe": "1 * ProbeHandler; 2 initialDelaySeconds int32; 3 timeoutSeconds int32; 4 periodSeconds int32;"
             "5 successThreshold int32; 6 failureThreshold int32; 7 terminationGracePeriodSeconds int64?",
    "ProbeHandler": "1 exec ExecAction; 2 httpGet HTTPGetAction; 3 tcpSocket TCPSocketAction",
    "ExecAction": "1 command []string",
    "HTTPGetAction": "1 path string; 2 port IntOrString; 3 host string; 4 scheme string; 5 httpHeaders []HTTPHeader",
    "HTTPHeader": "1 name string; 2 value string",
    "TCPSocketAction": "1 port IntOrString; 2 host string",
    "Toleration": "1 key string; 2 operator string; 3 value string; 4 effect string; 5 tolerationSeconds int64?",
    "ResourceQuota": "1 metadata ObjectMeta; 2 spec ResourceQuotaSpec; 3 status ResourceQuotaStatus",
    "ResourceQuotaSpec": "1 hard {}Quantity; 2 scopes []string; 3 scopeSelector ScopeSelector",
    "ScopeSelector": "1 matchExpressions []ScopedResourceSelectorRequirement",
    "ScopedResourceSelectorRequirement": "1 scopeName string; 2 operator string; 3 values []string",
    "ResourceQuotaStatus": "1 hard {}Quantity; 2 used {}Quantity",
    "PodSecurityContext": "2 runAsUser int64?; 3 runAsNonRoot bool?; 4 supplementalGroups []int64; 5 fsGroup int64?;"
                          "6 runAsGroup int64?; 9 fsGroupChangePolicy string?",
    "SecurityContext": "2 privileged bool?; 4 runAsUser int64?; 5 runAsNonRoot bool?;"
                       "6 readOnlyRootFilesystem bool?; 7 allowPrivilegeEscalation bool?; 8 runAsGroup int64?",
}

KINDS: dict[tuple[str, str], str] = {
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Secret"): "Secret",
    ("v1", "Namespace"): "Namespace",
    ("v1", "ServiceAccount"): "ServiceAccount",
    ("v1", "Service"): "Service",
    ("v1", "ResourceQuota"): "ResourceQuota",
}
