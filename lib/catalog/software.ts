/**
 * The software manifest: every pinned version installed on the nodes, in one place. The set follows Ray's own
 * `llm` extra for this Ray release (ray 2.58.0's wheel METADATA pins `vllm[audio]==0.26.0` and `nixl-cu13==1.3.1`;
 * the `nixl` meta package of the same version provides the `nixl` import name).
 */
export const SOFTWARE = {
  ray: '2.58.0',
  vllm: '0.26.0',
  nixl: '1.3.1',
  /**
   * vLLM needs lmcache >= 0.3.9. LMCache's prebuilt wheels carry a CUDA extension built against torch <= 2.8,
   * which fails to import under vLLM 0.26's torch 2.11 ("undefined symbol"), so GPU nodes compile this release
   * from source against the installed torch (the fix ai-dynamo/dynamo uses); the node verifies `lmcache.c_ops`.
   */
  lmcache: '0.5.6',
  /** Python the node venv is built with (the DLAMI's system python on Ubuntu 24.04). */
  python: '3.12',
  /**
   * The torch vLLM 0.26.0 pins (FACTS: vLLM 0.26.0 pins torch 2.11.0). Installed first, so LMCache can be built
   * against it while the rest of the stack installs; pinned again with vLLM so the resolver can never swap it.
   */
  torch: '2.11.0',
  /**
   * The model download's own small environment (huggingface_hub with its Xet transfer backend), independent of the
   * stack so the download starts minutes before vLLM is installed; versions as published on PyPI in 2026-10.
   */
  huggingfaceHub: '2.4.0',
  hfXet: '1.8.0',
} as const;

/**
 * DLAMI public SSM parameter: Base OSS Nvidia Driver GPU AMI, Ubuntu 24.04, x86_64 (the AWS Deep Learning AMI
 * release notes name the parameter `/aws/service/deeplearning/ami/x86_64/<ami>/latest/ami-id`).
 */
export const DEFAULT_AMI_PARAMETER =
  '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-24.04/latest/ami-id';


/**
 * The observability stack (lib/monitoring). No published checksum for the release tarballs could be verified here,
 * so everything comes from signed package sources instead, each pinned:
 * - Prometheus and node_exporter from the Ubuntu 24.04 (noble) archive the DLAMI already trusts; the node checks that
 *   the installed upstream version starts with the pinned one (Debian revisions may move with security updates).
 * - Grafana OSS from Grafana Labs' apt repository, exact version. Its keys come from the full key file of Grafana's
 *   current Debian install doc (grafana/grafana docs/sources/setup-grafana/installation/debian/index.md: gpg-full.key
 *   saved as /etc/apt/keyrings/grafana.asc); the older gpg.key + `gpg --dearmor` flow fails since Grafana's December
 *   2025 key rotation with `NO_PUBKEY 963FA27710458545` (grafana/grafana#116093). The full file holds several keys, the
 *   pinned one not first: the node keeps exactly the pinned key, if present and neither expired nor revoked, as the
 *   repository's keyring, so apt trusts no other key of the file for it.
 * - dcgm-exporter as NVIDIA's container image (NVIDIA/dcgm-exporter README: `docker run --gpus all --cap-add
 *   SYS_ADMIN … nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless`): the Base OSS DLAMI ships Docker and the
 *   NVIDIA Container Toolkit (its release notes list `nvidia_container_toolkit_version` and docker-ce).
 */
export const MONITORING_SOFTWARE = {
  /** Ubuntu noble's `prometheus` package (upstream 2.45 LTS). */
  prometheusApt: { package: 'prometheus', upstreamVersion: '2.45.' },
  /** Ubuntu noble's `prometheus-node-exporter` (upstream 1.7), whose defaults enable the textfile collector. */
  nodeExporterApt: { package: 'prometheus-node-exporter', upstreamVersion: '1.7.' },
  grafana: {
    package: 'grafana',
    version: '13.2.3',
    aptRepo: 'https://apt.grafana.com',
    keyUrl: 'https://apt.grafana.com/gpg-full.key',
    /** Grafana Labs' repository signing key (apt.grafana.com; valid to 2027-08-22 in a May 2026 copy of gpg-full.key). */
    keyFingerprint: 'B53AE77BADB630A683046005963FA27710458545',
    /** ASCII-armored, as apt reads a `signed-by` keyring whose name ends in .asc (Grafana's install doc). */
    keyring: '/etc/apt/keyrings/grafana.asc',
  },
  dcgmExporterImage: 'nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless',
} as const;
