#!/usr/bin/env bash
# Installs (when missing), starts (when stopped) and waits for the services the tests and the
# production mode use: PostgreSQL, Redis, MariaDB and a single-node KRaft Kafka broker.
# Idempotent: a second run only probes. Progress goes to stderr; stdout gets only the
# KEY=value lines to use, for callers to export (see scripts/test.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MILLRACE_CACHE:-$HOME/.cache/millrace}/kafka"
KAFKA_WAIT_S="${KAFKA_WAIT_S:-90}"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

say() { echo "[services-up] $*" >&2; }
die() { echo "[services-up] ERROR: $*" >&2; exit 1; }

APT_UPDATED=""
apt_install() {
  say "installing $* (apt-get)"
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq >&2; APT_UPDATED=1; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# Polls `$@` until it succeeds, at most $1 seconds; the probe itself is the readiness signal.
wait_for() {
  local what="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
  say "$what is ready"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- PostgreSQL
postgres_up() {
  command -v pg_ctlcluster >/dev/null && [ -n "$(ls /usr/lib/postgresql 2>/dev/null)" ] || apt_install postgresql
  local ver; ver="$(ls /usr/lib/postgresql | sort -n | tail -1)"
  [ -d "/etc/postgresql/$ver/main" ] || { say "creating cluster $ver/main"; $SUDO pg_createcluster "$ver" main >&2; }
  # Local socket as the postgres OS user: works before loopback auth is sorted out.
  pgsql() { (cd / && $SUDO runuser -u postgres -- psql -X -q -At -d postgres -c "$1"); }
  if ! $SUDO pg_ctlcluster "$ver" main status >/dev/null 2>&1; then
    say "starting PostgreSQL $ver"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2
  fi
  wait_for "PostgreSQL" 60 pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not become ready"
  # Logical decoding is what the Postgres CDC connector reads; it needs a restart to change.
  if [ "$(pgsql 'SHOW wal_level')" != "logical" ]; then
    say "setting wal_level=logical (restarts PostgreSQL)"
    pgsql "ALTER SYSTEM SET wal_level = logical"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main restart >&2
    wait_for "PostgreSQL (restarted)" 60 pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not come back"
  fi
  # The apps connect as postgres over TCP without a password; a stock install wants one.
  if ! psql -X -w -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
    local hba; hba="$(pgsql 'SHOW hba_file')"
    say "allowing trust auth on loopback in $hba"
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    pgsql "SELECT pg_reload_conf()" >/dev/null
    wait_for "PostgreSQL trust login" 10 psql -X -w -h 127.0.0.1 -U postgres -d postgres -c 'select 1' ||
      die "cannot log in as postgres over 127.0.0.1"
  fi
  if [ "$(pgsql "SELECT 1 FROM pg_database WHERE datname = 'test'")" != "1" ]; then
    say "creating database test"; pgsql "CREATE DATABASE test"
  fi
}

# ---------------------------------------------------------------- Redis
redis_up() {
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting Redis"
    # No persistence: the speed layer rebuilds from Postgres, tests want a clean slate anyway.
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
  fi
  wait_for "Redis" 30 redis-cli -h 127.0.0.1 -p 6379 ping || die "Redis did not answer PING"
}

# ---------------------------------------------------------------- MariaDB
mariadb_up() {
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server
  if ! mysqladmin --protocol=tcp -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
    $SUDO install -d -o mysql -g mysql /run/mysqld
    [ -d /var/lib/mysql/mysql ] || $SUDO mariadb-install-db --user=mysql --datadir=/var/lib/mysql >&2
    say "starting MariaDB"
    # --user: Debian's stock config leaves `user` commented out and mariadbd refuses root.
    $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  fi
  # `mysqladmin ping` succeeds even when access is denied: it only asks "is the server up".
  wait_for "MariaDB" 60 mysqladmin --protocol=tcp -h 127.0.0.1 -uroot ping || die "MariaDB did not answer ping"
  # Stock root is unix_socket-only; the apps connect over TCP as root with no password.
  if ! mysql --protocol=tcp -h 127.0.0.1 -uroot -e 'select 1' >/dev/null 2>&1; then
    say "enabling passwordless root over TCP"
    $SUDO mysql -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
      CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
      GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
  fi
  mysql --protocol=tcp -h 127.0.0.1 -uroot -e 'CREATE DATABASE IF NOT EXISTS test'
}

# ---------------------------------------------------------------- Kafka (KRaft, from Maven Central)
kafka_libs() {
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  # The marker names the pom's hash, so editing the pom (e.g. a version bump) re-resolves.
  local marker="$CACHE/libs/.pom-$(sha256sum "$ROOT/scripts/kafka/pom.xml" | cut -c1-16)"
  [ -f "$marker" ] && return 0
  say "resolving Kafka jars from Maven Central into $CACHE/libs"
  rm -rf "$CACHE/libs" "$CACHE/libs.tmp"
  (cd "$ROOT/scripts/kafka" && mvn -B dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$CACHE/libs.tmp" >"$CACHE/mvn.log" 2>&1) ||
    { tail -n 30 "$CACHE/mvn.log" >&2; die "mvn could not resolve the Kafka jars (log: $CACHE/mvn.log)"; }
  mv "$CACHE/libs.tmp" "$CACHE/libs" && touch "$marker"
}

kafka_config() {
  cat >"$CACHE/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:9092
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$CACHE/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Kafka requires strictly more than 1 MiB per cleaner thread; the default (128 MiB) is wasted here.
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=2097152
# Topics are created by Topic.ensure() with their partition count; an auto-created one-partition
# topic would silently break the key -> partition mapping.
auto.create.topics.enable=false
EOF
  cat >"$CACHE/log4j2.properties" <<EOF
rootLogger.level=INFO
rootLogger.appenderRef.out.ref=out
appender.out.type=Console
appender.out.name=out
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=WARN
logger.apache.name=org.apache.kafka
logger.apache.level=WARN
logger.server.name=kafka.server.KafkaRaftServer
logger.server.level=INFO
logger.state.name=state.change.logger
logger.state.level=WARN
EOF
}

kafka_log_tail() { echo "----- last lines of $CACHE/kafka.log -----" >&2; tail -n 40 "$CACHE/kafka.log" >&2 || true; }

kafka_up() {
  local pid="" old_pid
  mkdir -p "$CACHE"
  [ -d "$ROOT/node_modules/kafkajs" ] || die "node_modules/kafkajs is missing (run npm ci first): it probes the broker"
  old_pid="$(cat "$CACHE/kafka.pid" 2>/dev/null || true)"
  if port_open 9092; then
    say "something already listens on 9092; not starting Kafka"
  elif [ -n "$old_pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$old_pid/cmdline" | grep -q 'kafka\.Kafka'; then
    # A broker from an earlier run that is still starting up (or a run that timed out): wait for it.
    pid="$old_pid"
    say "Kafka (pid $pid) is already starting"
  else
    kafka_libs
    kafka_config
    local cp="$CACHE/libs/*" jopts=(-Xmx512m -Djava.awt.headless=true "-Dlog4j2.configurationFile=$CACHE/log4j2.properties")
    if [ ! -f "$CACHE/data/meta.properties" ]; then
      [ -s "$CACHE/cluster-id" ] || java "${jopts[@]}" -cp "$cp" kafka.tools.StorageTool random-uuid >"$CACHE/cluster-id"
      say "formatting Kafka storage (cluster $(cat "$CACHE/cluster-id"))"
      java "${jopts[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$(cat "$CACHE/cluster-id")" \
        -c "$CACHE/server.properties" >&2 || die "kafka storage format failed"
    fi
    say "starting Kafka 4.1 (log: $CACHE/kafka.log)"
    # setsid + nohup: the broker must outlive this script and the shell job that ran it.
    setsid nohup java "${jopts[@]}" -cp "$cp" kafka.Kafka "$CACHE/server.properties" >"$CACHE/kafka.log" 2>&1 </dev/null &
    pid=$!; echo "$pid" >"$CACHE/kafka.pid"
  fi
  # A real client round-trip (metadata + topic list), not just an open port.
  say "waiting up to ${KAFKA_WAIT_S}s for Kafka to answer an admin request"
  if ! (cd "$ROOT" && KAFKA_WAIT_S="$KAFKA_WAIT_S" KAFKA_PID="$pid" node --input-type=module -e '
    const { Kafka, logLevel } = await import("kafkajs");
    const deadline = Date.now() + Number(process.env.KAFKA_WAIT_S) * 1000;
    const pid = Number(process.env.KAFKA_PID);
    const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
    let last;
    while (Date.now() < deadline) {
      if (pid && !alive()) { console.error("kafka process " + pid + " exited"); process.exit(1); }
      const admin = new Kafka({ clientId: "services-up", brokers: ["127.0.0.1:9092"], logLevel: logLevel.NOTHING,
        connectionTimeout: 2000, retry: { retries: 0 } }).admin();
      try { await admin.connect(); await admin.listTopics(); await admin.disconnect(); process.exit(0); }
      catch (e) { last = e; await admin.disconnect().catch(() => {}); }
      await new Promise((r) => setTimeout(r, 500));
    }
    console.error("kafka not ready: " + (last && last.message)); process.exit(1);
  ' >&2); then
    kafka_log_tail; die "Kafka did not become ready within ${KAFKA_WAIT_S}s"
  fi
  say "Kafka is ready"
}

# ---------------------------------------------------------------- producer tools
# Tests feed the connectors what programs nobody on the project wrote produce: kcat (librdkafka)
# writes snappy/lz4/zstd/gzip Kafka batches, Gnumeric's ssconvert writes workbooks.
tools_up() {
  local missing=()
  command -v kcat >/dev/null || missing+=(kcat)
  command -v ssconvert >/dev/null || missing+=(gnumeric)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

start=$SECONDS
tools_up
postgres_up
redis_up
mariadb_up
kafka_up
say "all services ready in $((SECONDS - start))s"
cat <<EOF
DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
REDIS_URL=redis://127.0.0.1:6379
KAFKA_BROKERS=127.0.0.1:9092
MARIADB_URL=mysql://root@127.0.0.1:3306/test
EOF
