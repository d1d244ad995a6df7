"""``google.colab.drive`` for the grader: mounting is a no-op (the files are already where they belong)."""


def mount(mountpoint, force_remount=False, timeout_ms=120000, readonly=False):
    print(f"[grader] google.colab.drive.mount({mountpoint!r}) skipped: the notebook runs beside its cs231n "
          "package, with the data set in $CS231N_DATA_DIR")


def flush_and_unmount(timeout_ms=24 * 60 * 60 * 1000):
    pass
