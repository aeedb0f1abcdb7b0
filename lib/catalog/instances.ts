/**
 * The instance catalog: every fact about an EC2 instance type that the stack, the serve configs and the cost
 * review derive from. Figures are from the EC2 instance-type pages and DescribeInstanceTypes (see
 * docs.aws.amazon.com/ec2/latest/instancetypes); `npm run preflight` compares them with the live API when credentials
 * are present.
 */
export interface GpuInstanceSpec {
  readonly kind: 'gpu';
  readonly gpus: number;
  readonly gpuModel: string;
  readonly gpuMemoryGiB: number;
  /** CUDA compute capability, for extensions compiled on the node (TORCH_CUDA_ARCH_LIST). */
  readonly cudaArch: string;
  readonly vcpus: number;
  readonly memoryGiB: number;
  /** Local NVMe instance-store disks (count × size in GB). */
  readonly nvmeDisks: number;
  readonly nvmeDiskGB: number;
  readonly networkCards: number;
  readonly maxEfaInterfaces: number;
  /**
   * Whether network card 0 carries an EFA device. On p5/p5e/p5en/p4d/p6-b200 it does, so the current AWS layout
   * puts an `efa-only` interface at card 0 / device 1 beside the ENA primary.
   */
  readonly efaOnCardZero: boolean;
}

export interface CpuInstanceSpec {
  readonly kind: 'cpu';
  readonly vcpus: number;
  readonly memoryGiB: number;
}

export type InstanceSpec = GpuInstanceSpec | CpuInstanceSpec;

export const GPU_INSTANCES: Readonly<Record<string, GpuInstanceSpec>> = {
  'p5.48xlarge': {
    kind: 'gpu', gpus: 8, gpuModel: 'H100', gpuMemoryGiB: 80, cudaArch: '9.0', vcpus: 192, memoryGiB: 2048,
    nvmeDisks: 8, nvmeDiskGB: 3840, networkCards: 32, maxEfaInterfaces: 32, efaOnCardZero: true,
  },
  'p5e.48xlarge': {
    kind: 'gpu', gpus: 8, gpuModel: 'H200', gpuMemoryGiB: 141, cudaArch: '9.0', vcpus: 192, memoryGiB: 2048,
    nvmeDisks: 8, nvmeDiskGB: 3840, networkCards: 32, maxEfaInterfaces: 32, efaOnCardZero: true,
  },
  'p5en.48xlarge': {
    kind: 'gpu', gpus: 8, gpuModel: 'H200', gpuMemoryGiB: 141, cudaArch: '9.0', vcpus: 192, memoryGiB: 2048,
    nvmeDisks: 8, nvmeDiskGB: 3840, networkCards: 16, maxEfaInterfaces: 16, efaOnCardZero: true,
  },
  'p4d.24xlarge': {
    kind: 'gpu', gpus: 8, gpuModel: 'A100', gpuMemoryGiB: 40, cudaArch: '8.0', vcpus: 96, memoryGiB: 1152,
    nvmeDisks: 8, nvmeDiskGB: 1000, networkCards: 4, maxEfaInterfaces: 4, efaOnCardZero: true,
  },
  'p6-b200.48xlarge': {
    kind: 'gpu', gpus: 8, gpuModel: 'B200', gpuMemoryGiB: 179, cudaArch: '10.0', vcpus: 192, memoryGiB: 2048,
    nvmeDisks: 8, nvmeDiskGB: 3840, networkCards: 8, maxEfaInterfaces: 8, efaOnCardZero: true,
  },
};

/** Small current CPU types suitable for a GPU-less Ray head (GCS, dashboard, Serve proxy/ingress). */
export const CPU_INSTANCES: Readonly<Record<string, CpuInstanceSpec>> = {
  'm7i.xlarge': { kind: 'cpu', vcpus: 4, memoryGiB: 16 },
  'm7i.2xlarge': { kind: 'cpu', vcpus: 8, memoryGiB: 32 },
  'm7i.4xlarge': { kind: 'cpu', vcpus: 16, memoryGiB: 64 },
  'm7i.8xlarge': { kind: 'cpu', vcpus: 32, memoryGiB: 128 },
  'c7i.4xlarge': { kind: 'cpu', vcpus: 16, memoryGiB: 32 },
};

export function gpuInstance(type: string): GpuInstanceSpec | undefined {
  return Object.prototype.hasOwnProperty.call(GPU_INSTANCES, type) ? GPU_INSTANCES[type] : undefined;
}

export function cpuInstance(type: string): CpuInstanceSpec | undefined {
  return Object.prototype.hasOwnProperty.call(CPU_INSTANCES, type) ? CPU_INSTANCES[type] : undefined;
}

export function instanceSpec(type: string): InstanceSpec | undefined {
  return gpuInstance(type) ?? cpuInstance(type);
}
