"""The raw pyinfra deploy doing what `envsetup apply ubuntu-java17` does on a converged
Debian 12 host, written as a pyinfra user would, and in its favour where there was a
choice: the package (with apt's cache-age check), java and javac as the
update-alternatives defaults, the JAVA_HOME line, then every check the recipe's verify
runs, joined into one command (package version, javac present, `java -version` and
`javac -version` are 17, the line in /etc/environment, and a fresh login of root sees
JAVA_HOME). JAVA_HOME comes from the environment (the benchmark passes the root's own
value)."""

import os
import shlex

from pyinfra import host
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, server

JAVA_HOME = os.environ["BENCH_JAVA_HOME"]
LINE = f'JAVA_HOME="{JAVA_HOME}"'

apt.packages(name="Install OpenJDK 17", packages=["openjdk-17-jdk"], update=True, cache_time=3600)
for link in ("java", "javac"):
    path = f"{JAVA_HOME}/bin/{link}"
    value = host.get_fact(Command, f"update-alternatives --query {link} | sed -n 's/^Value: //p'")
    if value != path:
        server.shell(
            name=f"{link} alternative", commands=[f"update-alternatives --set {link} {path}"]
        )
files.line(
    name="JAVA_HOME in /etc/environment",
    path="/etc/environment",
    line="^JAVA_HOME=.*$",
    replace=LINE,
)
login = shlex.quote('printf %s "$JAVA_HOME"')
server.shell(
    name="verify",
    commands=[
        " && ".join(
            [
                "dpkg-query -W -f='${Version}' openjdk-17-jdk | grep -q '^17'",
                f"test -e {JAVA_HOME}/bin/javac",
                "java -version 2>&1 | grep -q 'version \"17'",
                "javac -version 2>&1 | grep -q '^javac 17'",
                f"grep -qx {shlex.quote(LINE)} /etc/environment",
                f'test "$(su - root -c {login} </dev/null)" = {JAVA_HOME}',
            ]
        )
    ],
)
