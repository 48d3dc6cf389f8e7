"""Single-node Kubernetes: the API server and its store (kube-apiserver's and etcd's roles).

``api/`` holds the kinds (a registry as data), defaulting, validation, selectors and patching;
``store/`` the revisioned key-value store (SQLite by default, etcd optional) with watch;
``apiserver/`` the HTTP front door kubectl and the kubernetes client speak.  Controllers and the
node agent come later and talk to the API server like any other client.
"""
