# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034  # settings come from cluster.env and monitoring.env; variables set here are read by the main script
#
# The observability stack (lib/monitoring, docs/observability.md), shipped in the bootstrap asset with the files it
# installs (prometheus.yml, Grafana's provisioning and dashboards, dcgm-exporter's counters, the EFA writer) and
# sourced by asset-steps.sh. GPU nodes run node_exporter with the EFA counters and dcgm-exporter; the Ray head runs
# Prometheus and Grafana, both listening on 127.0.0.1 only (reached through an SSM port forward), and holds
# ClusterReady until Prometheus scrapes every target of every job.

# shellcheck source=/dev/null
. "$BIN_DIR/monitoring.env"

MON_ETC="$R/etc/p5-ray"
PROM_TARGETS="$R$PROMETHEUS_TARGETS_DIR"

apt_install() {
  # The DLAMI's apt sources: the EC2 regional mirror of the Ubuntu archive.
  need_internet "the Ubuntu archive" "http://$REGION.ec2.archive.ubuntu.com/ubuntu/"
  apt-get -o DPkg::Lock::Timeout=600 -q update
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -yq install --no-install-recommends "$@"
}

# installed_version <package> <upstream version prefix>: the node fails unless the package installed is that release.
installed_version() {
  local v
  v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true)
  v=${v#*:}
  [[ $v == "$2"* ]] || fail "$1 is at '${v:-not installed}', the stack pins upstream $2* (lib/catalog/software.ts)"
  say "  $1 $v"
}

# Units and defaults files take effect on (re)start; enabled so they come back after a reboot.
start_units() {
  systemctl daemon-reload
  systemctl enable "$@"
  systemctl restart "$@"
}

metrics_have() {
  local out
  out=$(curl -fsS --max-time 5 "$1" 2>&1) || { WAIT_NOTE=${out:0:160}; return 1; }
  WAIT_NOTE="$1 answers without $2"
  grep -q "^$2" <<<"$out"
}

# The background job `monitoring`: its installs (apt, a container pull) overlap the stack install instead of
# adding to the node's critical path; step_join waits for it like for the others. One job, not two, on a GPU node
# that is also the Ray head: two apt runs side by side would contend for dpkg's lock.
job_monitoring() {
  [ "$ON_GPU" = 0 ] || monitoring_exporters
  [ "$IS_RAY_HEAD" = 0 ] || monitoring_head
}

# GPU nodes: node_exporter (with the EFA counters through its textfile collector) and dcgm-exporter.
monitoring_exporters() {
  local unit_dir="$R/etc/systemd/system" limit missing=() f dcgm_out
  apt_install "$NODE_EXPORTER_PACKAGE"
  installed_version "$NODE_EXPORTER_PACKAGE" "$NODE_EXPORTER_VERSION"
  mkdir -p "$MON_ETC" "$unit_dir" "$R$TEXTFILE_DIR" "$R/etc/default"
  # Debian's unit passes $ARGS from this file (prometheus-node-exporter.service, EnvironmentFile).
  echo "ARGS=\"--web.listen-address=:$NODE_EXPORTER_PORT --collector.textfile.directory=$TEXTFILE_DIR\"" \
    >"$R/etc/default/$NODE_EXPORTER_PACKAGE"
  cat >"$unit_dir/p5-ray-efa-counters.service" <<UNIT
[Unit]
Description=EFA byte counters for node_exporter's textfile collector ($STACK_NAME $ROLE $GPU_INDEX)
After=network-online.target

[Service]
ExecStart=/bin/bash ${BIN_DIR#"$R"}/efa-counters.sh $TEXTFILE_DIR $EFA_INTERVAL_SECONDS $EFA_COUNTERS
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
  cp "$BIN_DIR/dcgm-counters.csv" "$MON_ETC/dcgm-counters.csv"
  # The DLAMI ships Docker with the NVIDIA Container Toolkit; its daemon may not be running yet this early.
  systemctl start docker.service
  say "  pulling $DCGM_EXPORTER_IMAGE"
  docker pull -q "$DCGM_EXPORTER_IMAGE" >/dev/null || fail "docker pull $DCGM_EXPORTER_IMAGE failed"
  # dcgm-exporter's own invocation (NVIDIA/dcgm-exporter README); SYS_ADMIN for DCGM's profiling metrics; -c: it reads
  # the GPUs at the scrape interval, not its default of every 30 s (lib/catalog/monitoring.ts).
  cat >"$unit_dir/p5-ray-dcgm-exporter.service" <<UNIT
[Unit]
Description=dcgm-exporter ($STACK_NAME $ROLE $GPU_INDEX)
After=docker.service
Requires=docker.service

[Service]
ExecStartPre=-/usr/bin/docker rm -f p5-ray-dcgm-exporter
ExecStart=/usr/bin/docker run --rm --name p5-ray-dcgm-exporter --gpus all --cap-add SYS_ADMIN -p $DCGM_EXPORTER_PORT:9400 -v /etc/p5-ray/dcgm-counters.csv:/etc/dcgm-exporter/p5-ray.csv:ro $DCGM_EXPORTER_IMAGE -f /etc/dcgm-exporter/p5-ray.csv -c $DCGM_COLLECT_INTERVAL_MS
ExecStop=/usr/bin/docker stop p5-ray-dcgm-exporter
Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target
UNIT
  start_units "$NODE_EXPORTER_PACKAGE.service" p5-ray-efa-counters.service p5-ray-dcgm-exporter.service
  limit=$(min "$(time_left)" "${P5RAY_EXPORTER_WAIT:-180}")
  wait_for "node_exporter with the EFA counters" "$limit" metrics_have "http://127.0.0.1:$NODE_EXPORTER_PORT/metrics" \
    "$EFA_TX_METRIC{" || fail "node_exporter does not serve $EFA_TX_METRIC within ${limit}s: $WAIT_NOTE (journalctl -u p5-ray-efa-counters)"
  wait_for "dcgm-exporter" "$limit" metrics_have "http://127.0.0.1:$DCGM_EXPORTER_PORT/metrics" "$DCGM_REQUIRED_FIELDS" ||
    fail "dcgm-exporter does not serve $DCGM_REQUIRED_FIELDS within ${limit}s: $WAIT_NOTE (journalctl -u p5-ray-dcgm-exporter)"
  dcgm_out=$(curl -fsS --max-time 5 "http://127.0.0.1:$DCGM_EXPORTER_PORT/metrics")
  for f in $DCGM_FIELDS; do grep -q "^$f{" <<<"$dcgm_out" || missing+=("$f"); done
  # Profiling fields need DCGM's profiling module, which another DCGM client on the node can hold: the panels that
  # use them stay empty, said here and in the node facts' log rather than failing a node that serves.
  [ "${#missing[@]}" -eq 0 ] || say "  WARNING: dcgm-exporter serves none of ${missing[*]} (docs/observability.md, DCGM profiling fields)"
  say "  node_exporter :$NODE_EXPORTER_PORT ($(grep -c "^$EFA_TX_METRIC{" <<<"$(curl -fsS --max-time 5 "http://127.0.0.1:$NODE_EXPORTER_PORT/metrics")") EFA ports), dcgm-exporter :$DCGM_EXPORTER_PORT"
}

# Grafana's apt keyring, from the full key file Grafana's Debian install doc uses (lib/catalog/software.ts says why).
# The file holds several keys, the pinned one anywhere among them: the node keeps that one key alone, checked present
# and neither expired nor revoked, so apt trusts no other key of the file for Grafana's repository. A private GnuPG
# home, without gpg-agent (--no-autostart: public keys need none), leaves nothing running and root's keyring alone.
grafana_key() {
  local key="$STATE_DIR/grafana-full.asc" home="$STATE_DIR/gnupg" keys validity
  curl -fsSL --max-time 30 --retry 3 -o "$key" "$GRAFANA_KEY_URL" || fail "cannot download Grafana's signing keys $GRAFANA_KEY_URL"
  rm -rf "$home"
  mkdir -m 700 "$home"
  # "<fingerprint> <validity>" of every key and subkey (gpg's --with-colons: field 2 of pub/sub, e expired, r revoked).
  keys=$(gpg --homedir "$home" --batch --no-autostart --show-keys --with-colons "$key" 2>/dev/null |
    awk -F: '$1 == "pub" || $1 == "sub" { v = $2 } $1 == "fpr" { print $10, v }') || true
  validity=$(awk -v f="$GRAFANA_KEY_FPR" '$1 == f { print $2 }' <<<"$keys")
  [ -n "$validity" ] || fail "Grafana's key file $GRAFANA_KEY_URL holds no key $GRAFANA_KEY_FPR (it holds: $(awk '{ print $1 }' <<<"$keys" | paste -sd, -)): not trusting it"
  case $validity in
    e) fail "Grafana's key $GRAFANA_KEY_FPR in $GRAFANA_KEY_URL has expired: pin the key that signs the repository now (lib/catalog/software.ts)" ;;
    r) fail "Grafana's key $GRAFANA_KEY_FPR in $GRAFANA_KEY_URL is revoked: pin the key that signs the repository now (lib/catalog/software.ts)" ;;
  esac
  gpg --homedir "$home" --batch --quiet --no-autostart --import "$key" 2>/dev/null || fail "gpg cannot import $GRAFANA_KEY_URL"
  mkdir -p "$(dirname "$R$GRAFANA_KEYRING")" "$R/etc/apt/sources.list.d"
  gpg --homedir "$home" --batch --no-autostart --armor --export "$GRAFANA_KEY_FPR" >"$R$GRAFANA_KEYRING"
  chmod 644 "$R$GRAFANA_KEYRING"
  echo "deb [signed-by=$GRAFANA_KEYRING] $GRAFANA_APT_REPO stable main" >"$R/etc/apt/sources.list.d/grafana.list"
}

answers_ok() { curl -fsS --max-time 5 -o /dev/null "$1" 2>/dev/null; }

# The Ray head: Prometheus and Grafana, configured from the files in the asset.
monitoring_head() {
  local prov="$R$GRAFANA_PROVISIONING" unit_dir="$R/etc/systemd/system" limit
  need_internet "Grafana's apt repository" "$GRAFANA_APT_REPO"
  grafana_key
  apt_install "$PROMETHEUS_PACKAGE" "grafana=$GRAFANA_VERSION"
  installed_version "$PROMETHEUS_PACKAGE" "$PROMETHEUS_VERSION"
  installed_version grafana "$GRAFANA_VERSION"
  mkdir -p "$R/etc/prometheus" "$PROM_TARGETS" "$R/etc/default"
  cp "$BIN_DIR/prometheus.yml" "$R/etc/prometheus/prometheus.yml"
  # This node's own targets until step_scrape knows the GPU nodes.
  "$PY" "$BIN_DIR/monitoring.py" targets --out "$PROM_TARGETS" --head-name "$(my_node_name)" --head-ip "$PRIVATE_IP" \
    --ports "$SCRAPE_PORTS" </dev/null >/dev/null
  # Debian's unit passes $ARGS from this file (prometheus.service, EnvironmentFile).
  echo "ARGS=\"--config.file=/etc/prometheus/prometheus.yml --web.listen-address=127.0.0.1:$PROMETHEUS_PORT --storage.tsdb.path=/var/lib/prometheus/metrics2/ --storage.tsdb.retention.size=$PROMETHEUS_RETENTION_SIZE\"" \
    >"$R/etc/default/$PROMETHEUS_PACKAGE"
  mkdir -p "$prov/datasources" "$prov/dashboards" "$R$GRAFANA_DASHBOARDS" "$R$GRAFANA_RAY_DASHBOARDS" "$unit_dir/grafana-server.service.d"
  cp "$BIN_DIR/grafana-datasource.yaml" "$prov/datasources/p5-ray.yaml"
  cp "$BIN_DIR/grafana-dashboards.yaml" "$prov/dashboards/p5-ray.yaml"
  cp "$BIN_DIR/$STUDY_DASHBOARD_FILE" "$R$GRAFANA_DASHBOARDS/$STUDY_DASHBOARD_FILE"
  # Listening on 127.0.0.1 only: the one way in is an SSM port forward, which needs the IAM rights for a session,
  # so anonymous access there is access for the stack's operators only.
  cat >"$unit_dir/grafana-server.service.d/p5-ray.conf" <<UNIT
[Service]
Environment=GF_SERVER_HTTP_ADDR=127.0.0.1
Environment=GF_SERVER_HTTP_PORT=$GRAFANA_PORT
Environment=GF_AUTH_ANONYMOUS_ENABLED=true
Environment=GF_AUTH_ANONYMOUS_ORG_ROLE=Editor
Environment=GF_AUTH_DISABLE_LOGIN_FORM=true
Environment=GF_ANALYTICS_REPORTING_ENABLED=false
Environment=GF_ANALYTICS_CHECK_FOR_UPDATES=false
Environment=GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH=$GRAFANA_DASHBOARDS/$STUDY_DASHBOARD_FILE
UNIT
  start_units "$PROMETHEUS_PACKAGE.service" grafana-server.service
  limit=$(min "$(time_left)" "${P5RAY_EXPORTER_WAIT:-180}")
  wait_for "Prometheus" "$limit" answers_ok "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" ||
    fail "Prometheus does not answer /-/ready on 127.0.0.1:$PROMETHEUS_PORT within ${limit}s (journalctl -u prometheus)"
  wait_for "Grafana" "$limit" answers_ok "http://127.0.0.1:$GRAFANA_PORT/api/health" ||
    fail "Grafana does not answer /api/health on 127.0.0.1:$GRAFANA_PORT within ${limit}s (journalctl -u grafana-server)"
  say "  Prometheus 127.0.0.1:$PROMETHEUS_PORT, Grafana 127.0.0.1:$GRAFANA_PORT"
}

my_node_name() { if [ "$ROLE" = head ]; then echo head; else echo "gpu-$GPU_INDEX"; fi; }

# Re-writes the targets each time (from the facts and Ray's current service-discovery file: Prometheus re-reads a
# changed file), then asks Prometheus whether every one of them is up.
scrape_ready() {
  local out
  "$PY" "$BIN_DIR/monitoring.py" targets --out "$PROM_TARGETS" --head-name "$(my_node_name)" --head-ip "$PRIVATE_IP" \
    --ports "$SCRAPE_PORTS" --ray-sd "$R$RAY_SD_FILE" "${FACT_FILES[@]}" </dev/null >"$STATE_DIR/targets.txt" ||
    { WAIT_NOTE="cannot write the targets: $(<"$STATE_DIR/targets.txt")"; return 1; }
  curl -fsS --max-time 5 -o "$STATE_DIR/prom-targets.json" "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/targets" 2>/dev/null ||
    : >"$STATE_DIR/prom-targets.json"
  out=$("$PY" "$BIN_DIR/monitoring.py" check --targets-dir "$PROM_TARGETS" --api "$STATE_DIR/prom-targets.json" \
    --ray-sd "$R$RAY_SD_FILE" --ray-port "$RAY_METRICS_PORT" 2>&1 </dev/null) && { WAIT_NOTE=$out; return 0; }
  WAIT_NOTE=${out##*$'\n'}
  return 1
}

ray_dashboards() {
  compgen -G "$R$RAY_GRAFANA_GENERATED/*.json" >/dev/null
}

# The Ray head, once every GPU node is in: scrape every node (from the nodes' facts), copy Ray's generated
# dashboards, and wait until Prometheus has every target of every job up.
step_scrape() {
  local i f limit
  FACT_FILES=()
  for i in $(seq 0 $((GPU_NODES - 1))); do
    f="$STATE_DIR/facts-gpu-$i.json"
    s3_get "s3://$BUCKET/${NODE_FACTS_PREFIX}gpu-$i.json" "$f" || fail "no node facts of gpu-$i in s3://$BUCKET/$NODE_FACTS_PREFIX: $WAIT_NOTE"
    FACT_FILES+=("$f")
  done
  limit=$(min "$(time_left)" "${P5RAY_EXPORTER_WAIT:-180}")
  wait_for "Ray's Grafana dashboards in $RAY_GRAFANA_GENERATED" "$limit" ray_dashboards ||
    fail "Ray wrote no Grafana dashboards to $RAY_GRAFANA_GENERATED (the dashboard's metrics module)"
  cp "$R$RAY_GRAFANA_GENERATED"/*.json "$R$GRAFANA_RAY_DASHBOARDS/"
  say "  $(find "$R$GRAFANA_RAY_DASHBOARDS" -name '*.json' | grep -c .) Ray dashboards provisioned"
  limit=$(min "$(time_left)" "${P5RAY_SCRAPE_WAIT:-300}")
  wait_for "Prometheus to scrape every node" "$limit" scrape_ready ||
    fail "Prometheus is not scraping every node within ${limit}s: $WAIT_NOTE"
  say "  targets: $(<"$STATE_DIR/targets.txt")"
  say "  $WAIT_NOTE"
}
