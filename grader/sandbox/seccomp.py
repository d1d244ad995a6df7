"""No internet sockets for the setpriv tier, where root may not make a network namespace (no
``CAP_SYS_ADMIN``, as in a default Docker container): a seccomp filter, which needs no privilege.

TRUSTED SIDE: the filter is installed by a tiny program, passed with ``python -I -c`` (no file the sandbox
uid would have to read), which then ``execv``\\ s the worker or kernel; a filter survives ``execve`` and is
inherited by every child. It refuses, with ``EACCES``:

- ``socket()`` of the families ``AF_INET``, ``AF_INET6`` and ``AF_PACKET`` (Unix sockets, which the
  notebook kernels' ZeroMQ uses, stay allowed);
- every system call of another ABI (32-bit ``int 0x80``, x32), which would go round the filter.

``supported()`` says whether this machine's architecture is one the filter knows (x86-64, aarch64).
"""
from __future__ import annotations

import platform
from typing import Sequence

# (AUDIT_ARCH of seccomp_data.arch, __NR_socket) of each architecture the filter knows
ARCHES = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}
X32_BIT = 0x40000000           # x86-64's x32 ABI: the same arch value, the syscall number with this bit
FAMILIES = (2, 10, 17)         # AF_INET, AF_INET6, AF_PACKET
EACCES = 13

PROGRAM = r"""
import ctypes, os, struct, sys
ARCH, NR_SOCKET, X32, FAMILIES, ERRNO = {arch}, {nr}, {x32}, {families}, {errno}
LD, JEQ, JGE, RET = 0x20, 0x15, 0x35, 0x06
ALLOW, DENY = 0x7FFF0000, 0x00050000 | ERRNO
def op(code, k, jt=0, jf=0):
    return struct.pack("HBBI", code, jt, jf, k)
n = len(FAMILIES)
prog = [op(LD, 4), op(JEQ, ARCH, 1, 0), op(RET, DENY),           # another ABI: refused
        op(LD, 0), op(JGE, X32, 0, 1), op(RET, DENY),             # x32 system calls: refused
        op(JEQ, NR_SOCKET, 0, n + 1), op(LD, 16)]                 # socket(): look at its family
prog += [op(JEQ, f, n - i, 0) for i, f in enumerate(FAMILIES)]
prog += [op(RET, ALLOW), op(RET, DENY)]
code = b"".join(prog)
buf = ctypes.create_string_buffer(code, len(code))
class FProg(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fprog = FProg(len(prog), ctypes.addressof(buf))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
    sys.stderr.write("seccomp filter refused: errno %d\n" % ctypes.get_errno())
    sys.exit(126)
os.execv(sys.argv[1], sys.argv[1:])
"""


def supported() -> bool:
    return platform.machine() in ARCHES


def program() -> str:
    arch, nr = ARCHES[platform.machine()]
    return PROGRAM.format(arch=arch, nr=nr, x32=X32_BIT, families=FAMILIES, errno=EACCES)


def wrap(python: str, argv: Sequence[str]) -> list[str]:
    """``argv`` started under the filter (``python``: an interpreter the sandbox uid can run)."""
    return [python, "-I", "-c", program(), *argv]
