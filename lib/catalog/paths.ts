/**
 * Where things live, on the nodes and in the artifacts bucket. The bootstrap scripts, the serve bundle's scripts,
 * the IAM policies and the README all take these from here.
 */
export const NODE_PATHS = {
  /** Everything this tool installs on a node. */
  root: '/opt/p5-ray',
  /** The Python virtual environment with the pinned Ray + vLLM + NIXL + LMCache stack. */
  venv: '/opt/p5-ray/venv',
  /** The serve bundle (four YAML configs, builder.py, run_bm.sh, run_all.sh), copied from the bucket on the head. */
  serveBundle: '/opt/p5-ray/serve',
  /** Benchmark results on the head before they are copied to the bucket. */
  results: '/opt/p5-ray/serve/bm_results',
  /** Hugging Face cache on the instance store (model weights are ~65 GB: the root volume is too small). */
  hfHome: '/opt/dlami/nvme/hf',
  /** Shell-sourceable settings written by user data (bucket, region, role, expected GPUs and EFA devices…). */
  clusterEnv: '/etc/p5-ray/cluster.env',
  /** Bootstrap log on the node (also streamed to CloudWatch Logs). */
  bootstrapLog: '/var/log/p5-ray-bootstrap.log',
  /** Instance-store NVMe mount on recent DLAMIs (dlami-nvme.service); Hugging Face cache and LMCache disk tier. */
  nvme: '/opt/dlami/nvme',
  /** What a GPU node verified (GPUs, EFA, NIXL provider, LMCache kernels, versions), as JSON; also in the bucket. */
  nodeFacts: '/etc/p5-ray/node-facts.json',
  /** uv's cache: on the venv's filesystem, so uv hard-links the installed files instead of copying them. */
  uvCache: '/opt/p5-ray/uv-cache',
} as const;

/** Key prefix of everything this tool keeps in a deploy-cache bucket (opt-in `deployCache`); IAM is scoped to it. */
export const DEPLOY_CACHE_PREFIX = 'p5-ray-cache/v1/';

/** Key prefixes in the artifacts bucket. IAM grants are scoped to these. */
export const BUCKET_PREFIXES = {
  serve: 'serve/',
  results: 'results/',
  /** Cluster rendezvous: the head publishes its address here for the GPU workers. */
  cluster: 'cluster/',
  /**
   * What each node verified at boot, one `<role>-<index>.json` per node (e.g. `gpu-0.json`: NIXL backend and
   * libfabric provider, installed versions). Under `cluster/`, so the head can read it; run_all.sh copies it next
   * to the benchmark results.
   */
  nodeFacts: 'cluster/nodes/',
} as const;
