"""What a sandboxed call can raise (trusted side): the student's error, timeout or crash, or the grader's."""


class SandboxError(Exception):
    """Base class of everything a sandboxed call can raise besides CodecError for non-plain arguments."""


class StudentError(SandboxError):
    """The student's code raised.  ``exc_type`` (e.g. 'ValueError'), ``message``, ``traceback`` (student
    frames only), ``output`` (what the call printed, tail)."""

    def __init__(self, exc_type: str, message: str, traceback: str = "", output: str = ""):
        super().__init__(f"{exc_type}: {message}")
        self.exc_type, self.message, self.traceback, self.output = exc_type, message, traceback, output


class StudentTimeout(SandboxError):
    """The call exceeded its time limit; the whole sandbox was killed (the next call starts a new one)."""


class SandboxCrash(SandboxError):
    """The worker died (os._exit, a signal, a limit) or broke the protocol; the next call starts a new one."""


class StaleHandle(SandboxError):
    """The Handle belongs to a worker that has been replaced, was released, or to another Sandbox."""


class RequestError(SandboxError):
    """The worker refused the request itself (unknown op, empty setitem path...): a grader bug."""


class SandboxUnavailable(RuntimeError):
    """sandboxed=True was asked for but the sandbox does not work on this host (see launch.probe)."""
