# shellcheck shell=bash disable=SC2034,SC2016
# images/ruby: Debian bookworm minbase + ruby (Ruby 3.1).
KIND=debian
ESTIMATE="~25 s"
PACKAGES="ruby"
# Gems a program might install go under /tmp (the root fs is read-only).
# RUBYOPT loads runit_sync.rb: $stdout is a pipe, and Ruby would otherwise
# buffer it, so the console would see nothing until the program ends.
IMAGE_ENV=(GEM_HOME=/tmp/gems RUBYOPT=-rrunit_sync)
VERSION_CMD='ruby -e "print RUBY_VERSION"'
# Hook called by images/build after apt, before import ($1 = rootfs dir).
image_post_install() {
  mkdir -p "$1/usr/lib/ruby/vendor_ruby"
  printf '# run-it: stream output as it is written (stdout is a pipe)\n$stdout.sync = true\n$stderr.sync = true\n' \
    > "$1/usr/lib/ruby/vendor_ruby/runit_sync.rb"
}
