"""Running the student's code in a sandbox.

What runs where -- the one thing to see in this package:

    inside/     SANDBOX: the only grader code the sandbox sees, copied as it is to /sandbox/harness:
                  worker.py   imports the student's modules, serves calls, keeps caches/models as handles;
                  codec.py    plain data + NumPy arrays over a pipe; no pickle; size caps (both sides use it);
                  shims/      compatibility modules old submissions import (``past.builtins``, ``google.colab``).
    launch.py   TRUSTED: the bwrap/setpriv/prlimit command line -- what the sandbox can see, nothing else.
    proxy.py    TRUSTED: ``Sandbox``, ``Handle``, ``Limits`` (and, re-exported, the exceptions the grader uses);
    errors.py   TRUSTED: those exceptions (the student's error, timeout, crash; the grader's);
    processes.py TRUSTED: how a worker ended, its child processes, the uid pool.
"""
