"""Running the student's code in a sandbox.

What runs where -- the one thing to see in this package:

    worker.py   SANDBOX: the only grader code that runs inside the sandbox (imports the student's modules,
                serves calls, keeps caches/models as handles).  It imports nothing of the grader but
    codec.py    BOTH SIDES: plain data + NumPy arrays over a pipe; no pickle; size caps.
    launch.py   TRUSTED: the bwrap/setpriv/prlimit command line -- what the sandbox can see, nothing else.
    proxy.py    TRUSTED: ``Sandbox``, ``Handle``, ``Limits`` and the exceptions the grader uses.

Only ``worker.py`` and ``codec.py`` are mounted in the sandbox (at /sandbox/harness/); this file is not.
"""
