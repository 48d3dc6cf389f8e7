"""dockyard: the whole container delivery flow on one Linux machine.

Layers, lowest first (see docs/ and DESIGN.md): base → oci → registry | runtime | net → engine
→ build → dockerapi → cluster → ci | gitops | dev → web | cli.  Nothing is imported here, so that
the hot paths (`dockyard-runc`, the shim, the CLI) pay only for what they use.
"""

__version__ = "0.1.0"
