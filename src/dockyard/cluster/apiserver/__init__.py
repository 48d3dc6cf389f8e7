"""The Kubernetes API over HTTP (kube-apiserver's role), built on aiohttp.

:mod:`.app` assembles the application; one module per concern: :mod:`.resources` (the verbs on
stored objects), :mod:`.handlers` (HTTP in and out), :mod:`.discovery`, :mod:`.tables`,
:mod:`.watch`, :mod:`.openapi`, :mod:`.auth`, :mod:`.encryption` and :mod:`.codec`.
"""
