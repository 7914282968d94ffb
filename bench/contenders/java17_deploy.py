"""The raw pyinfra deploy equivalent to `envsetup apply ubuntu-java17` on a converged
Debian 12 host: the package, the JAVA_HOME line, and `java -version` as the check.
JAVA_HOME comes from the environment (the benchmark passes the root's own value)."""

import os

from pyinfra.operations import apt, files, server

apt.packages(name="OpenJDK 17", packages=["openjdk-17-jdk"])
files.line(
    name="JAVA_HOME in /etc/environment",
    path="/etc/environment",
    line="^JAVA_HOME=.*$",
    replace=os.environ["BENCH_JAVA_HOME_LINE"],
)
server.shell(name="java -version", commands=["java -version"])
