// Generated from lib/config/schema.ts by `npm run generate`: edit the schema, not this file.

/** The cluster settings, as props of the P5RayCluster construct. Each is validated in its constructor. */
export interface ClusterSettingsProps {
  /**
   * AZ of the placement group, subnet and nodes; must belong to the region.
   * Allowed: an availability zone name such as us-east-1a.
   * @default <region>a
   */
  readonly availabilityZone?: string;
  /**
   * Deploy even where the offline region catalog says the instance type is not sold (when the catalog is stale; npm run preflight asks the live API).
   * @default false
   */
  readonly ignoreRegionCatalog?: boolean;
  /**
   * GPU node type, one of p5.48xlarge, p5e.48xlarge, p5en.48xlarge, p4d.24xlarge, p6-b200.48xlarge.
   * @default 'p5.48xlarge'
   */
  readonly gpuInstanceType?: 'p5.48xlarge' | 'p5e.48xlarge' | 'p5en.48xlarge' | 'p4d.24xlarge' | 'p6-b200.48xlarge';
  /**
   * Number of GPU nodes, 2–16 (the PD configurations put prefill and decode on separate nodes).
   * Allowed: 2–16.
   * @default 2
   */
  readonly gpuNodes?: number;
  /**
   * Ray head node type, one of m7i.xlarge, m7i.2xlarge, m7i.4xlarge, m7i.8xlarge, c7i.4xlarge, or none (head on the first GPU node).
   * @default 'm7i.2xlarge'
   */
  readonly headInstanceType?: 'm7i.xlarge' | 'm7i.2xlarge' | 'm7i.4xlarge' | 'm7i.8xlarge' | 'c7i.4xlarge' | 'none';
  /**
   * EFA interface layout: efa-only (AWS current: ENA primary + efa-only on every card) or efa (older: efa on every card).
   * @default 'efa-only'
   */
  readonly efaLayout?: 'efa-only' | 'efa';
  /**
   * SSM parameter holding the AMI id, resolved when the cluster is created and again only when it or amiGeneration changes (a deploy never picks up a newer AMI on its own); AWS public parameters must be x86_64 Ubuntu 24.04 (what the bootstrap supports).
   * Allowed: an SSM parameter name starting with /.
   * @default DLAMI Base OSS Nvidia Driver GPU Ubuntu 24.04
   */
  readonly amiParameter?: string;
  /**
   * Raise it (e.g. 1 → 2) to resolve amiParameter again, to its newest AMI, and replace every node with that AMI; unchanged, the nodes keep the AMI they were created with.
   * Allowed: 1–1000000.
   * @default 1
   */
  readonly amiGeneration?: number;
  /**
   * Encrypted gp3 root volume per node, GiB (100–16384).
   * Allowed: 100–16384.
   * @default 300
   */
  readonly rootVolumeGiB?: number;
  /**
   * Provisioned gp3 throughput of every node's root volume, MiB/s (125–1000; IOPS follow at 4 per MiB/s, at least 3000): the venv (~12 GB) is written there during the bootstrap.
   * Allowed: 125–1000.
   * @default 1000
   */
  readonly rootVolumeThroughputMiBps?: number;
  /**
   * Hugging Face model id served.
   * Allowed: a Hugging Face model id such as openai/gpt-oss-120b.
   * @default 'openai/gpt-oss-120b'
   */
  readonly model?: string;
  /**
   * Model name clients send (the OpenAI `model` field).
   * Allowed: letters, digits, . _ : - (at most 64).
   * @default 'gptoss'
   */
  readonly servedModelName?: string;
  /**
   * VLLM max_model_len; must hold every benchmark workload's input + output tokens.
   * Allowed: 256–1048576.
   * @default 16000
   */
  readonly maxModelLen?: number;
  /**
   * Layouts of the serve configurations: full-cluster (every configuration uses every GPU, so all compare at equal GPU count) or reference (the exact layouts of anyscale/ray-serve-llm-perf-examples pd+kv_offloading: 1 × TP4 collocated, 1P1D TP4; its table).
   * @default 'full-cluster'
   */
  readonly profile?: 'full-cluster' | 'reference';
  /**
   * Tensor parallelism of each collocated replica, and the default of both PD sides; must divide the GPUs per node (not with profile=reference).
   * Allowed: 1–8.
   * @default 4 (the reference example's)
   */
  readonly tensorParallelSize?: number;
  /**
   * Replicas of the collocated configurations, spread over the GPU nodes, each on one node (not with profile=reference).
   * Allowed: 1–128.
   * @default full-cluster: gpuNodes × GPUs per node ÷ tensorParallelSize; reference: 1
   */
  readonly collocatedReplicas?: number;
  /**
   * Tensor parallelism of each prefill replica; must divide the GPUs per node (not with profile=reference).
   * Allowed: 1–8.
   * @default tensorParallelSize
   */
  readonly prefillTensorParallelSize?: number;
  /**
   * Prefill replicas of the PD configurations; prefill and decode never share a node (not with profile=reference).
   * Allowed: 1–128.
   * @default full-cluster: the replicas that fill half the GPU nodes (rounded down); reference: 1
   */
  readonly prefillReplicas?: number;
  /**
   * Tensor parallelism of each decode replica; must divide the GPUs per node (not with profile=reference).
   * Allowed: 1–8.
   * @default tensorParallelSize
   */
  readonly decodeTensorParallelSize?: number;
  /**
   * Decode replicas of the PD configurations, on GPU nodes that run no prefill (not with profile=reference).
   * Allowed: 1–128.
   * @default full-cluster: the replicas that fill the other GPU nodes; reference: 1
   */
  readonly decodeReplicas?: number;
  /**
   * Ray Serve request router of the engine deployments: auto (prefix-aware for the prefix-reuse workload, power-of-two for random), prefix-aware (Ray Serve LLM PrefixCacheAffinityRouter) or power-of-two (Serve's default); run_all.sh --router overrides it per run.
   * @default 'auto'
   */
  readonly requestRouter?: 'auto' | 'power-of-two' | 'prefix-aware';
  /**
   * NIXL transport over EFA: LIBFABRIC or UCX.
   * @default 'LIBFABRIC'
   */
  readonly nixlBackend?: 'UCX' | 'LIBFABRIC';
  /**
   * LMCache chunk size, tokens (16–8192).
   * Allowed: 16–8192.
   * @default 256
   */
  readonly lmcacheChunkSize?: number;
  /**
   * LMCache pinned CPU memory per TP rank, GB (× ranks per node must fit the node RAM with 25% headroom).
   * Allowed: 1–4096 (decimals allowed).
   * @default 100
   */
  readonly lmcacheCpuGbPerRank?: number;
  /**
   * LMCache disk tier per rank on the NVMe instance store, GB (0 = off).
   * Allowed: 0–1000000 (decimals allowed).
   * @default 0
   */
  readonly lmcacheDiskGb?: number;
  /**
   * On-Demand Capacity Reservation or Capacity Block id (cr-…) for the GPU nodes.
   * Allowed: a capacity reservation id: cr- and 8–17 hex digits.
   * @default - none (off)
   */
  readonly capacityReservationId?: string;
  /**
   * Launch the GPU nodes into a Capacity Block (needs capacityReservationId).
   * @default false
   */
  readonly capacityBlock?: boolean;
  /**
   * Existing cluster placement group for the GPU nodes instead of a new one: required when the ODCR was created in a placement group (not with capacityBlock).
   * Allowed: a placement group name (letters, digits, _ . -).
   * @default - none (off)
   */
  readonly placementGroupName?: string;
  /**
   * Spend guard: stop the GPU nodes this many hours after they start (at creation, and again after every start: a restart re-arms it; 0 = off, warned about; else at least the bootstrap timeout + 30 min).
   * Allowed: 0–720 (decimals allowed).
   * @default 8
   */
  readonly maxHours?: number;
  /**
   * E-mail address for an AWS Budgets alert on this stack's cost-allocation tag.
   * Allowed: an e-mail address.
   * @default - none (off)
   */
  readonly budgetEmail?: string;
  /**
   * Secrets Manager secret holding a Hugging Face token, for gated models.
   * Allowed: a Secrets Manager secret name.
   * @default - none (off)
   */
  readonly hfTokenSecretName?: string;
  /**
   * How long CloudFormation waits for every node to report ready before rolling back (20–240).
   * Allowed: 20–240.
   * @default 90
   */
  readonly bootstrapTimeoutMinutes?: number;
  /**
   * Restore the venv, LMCache wheel and model weights from an S3 cache that outlives the stack, and fill it after the first successful boot (off: nothing of the cluster outlives cdk destroy but the copies of its assets in the CDK bootstrap bucket).
   * @default false
   */
  readonly deployCache?: boolean;
  /**
   * Bucket for deployCache (needs deployCache=true), in the stack's region (npm run preflight checks it); unset: the bucket of the separate P5RayDeployCache stack, p5-ray-cache-<account>-<region>.
   * Allowed: an S3 bucket name (3–63 lower-case letters, digits, . -).
   * @default - none (off)
   */
  readonly cacheBucketName?: string;
}
