#!/bin/sh
# Install every Debian package vigil needs to build, run and test.
# Non-interactive; services are not started by the packages (the tests
# start their own private instances).
set -eu
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
	echo "packages.sh: must run as root (apt-get)" >&2
	exit 1
fi
# Keep package maintainer scripts from starting daemons.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends \
	build-essential autoconf automake libtool pkg-config clang \
	libmilter-dev libgmime-3.0-dev libglib2.0-dev libpcre2-dev \
	libspf2-dev libopendkim-dev libopendmarc-dev libclamav-dev \
	liblmdb-dev lmdb-utils libsqlite3-dev sqlite3 libhiredis-dev \
	libpsl-dev publicsuffix libc-ares-dev libxxhash-dev libcmocka-dev libarchive-dev libssl-dev \
	postfix miltertest redis-server dnsmasq-base iproute2 \
	clamav opendkim-tools python3 zip unzip procps ca-certificates \
	clamav-daemon libyaml-dev spamassassin libhyperscan-dev \
	libmail-spf-perl libmail-dmarc-perl \
	m4 liblockfile1 libwrap0 mandoc debhelper lintian fakeroot \
	libmicrohttpd-dev prometheus libjson-c-dev chromium libcrypt-dev \
	libpq-dev zlib1g-dev postgresql \
	strace
# A real Sendmail for tests/sendmail: sendmail-bin conflicts with postfix,
# so its packages are only downloaded here (the test unpacks them into a
# private folder); the libraries it links are installed above.
sm_debs=/var/cache/vigil-test/sendmail
if ! ls "$sm_debs"/sendmail-bin_*.deb >/dev/null 2>&1; then
	mkdir -p "$sm_debs"
	(cd "$sm_debs" && apt-get download sendmail-bin sendmail-base sendmail-cf)
fi
