"""``envsetup doctor``: diagnose a machine read-only, each finding with the exact fix.

Checks are plain functions over a :class:`~envsetup.doctor.machine.Machine`
(the one seam through which /proc, /etc, the home directory, commands and HTTP
are read), collected in ``DOCTOR_CHECKS``; they run concurrently, each with a
timeout, and a check that crashes or times out is reported, never fatal.
"""
