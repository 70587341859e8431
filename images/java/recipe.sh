# shellcheck shell=bash disable=SC2034
# images/java: Debian bookworm minbase + openjdk-17-jdk-headless.
KIND=debian
ESTIMATE="~30 s"
PACKAGES="openjdk-17-jdk-headless"
IMAGE_ENV=(JAVA_HOME=/usr/lib/jvm/java-17-openjdk-@ARCH@)
VERSION_CMD='java -XshowSettings:properties -version 2>&1 | sed -n "s/^ *java.version = //p"'
# Hook called by images/build after apt, before import (host side, $1 = rootfs dir).
# jmods are only read by jlink (75 MB).
image_post_install() {
  rm -rf "$1"/usr/lib/jvm/java-*-openjdk-*/jmods "$1"/usr/lib/jvm/java-*-openjdk-*/man
}
