/**
 * What a rehearsal takes, from its first run on one NVIDIA H200 (samples/rehearsal-h200, 2026-12-04), and what that
 * costs on typical one- and four-GPU cloud instances. Durations are measured on that machine; the time on another
 * GPU is an estimate from them (engine starts, the LMCache compile and the installs dominate; the benchmarks of a
 * rehearsal last seconds).
 */
import { REGION_CATALOG_SOURCE } from '../catalog/regions';

/** Measured on one H200 (16 CPU cores, 125.8 GiB, Ubuntu 24.04), minutes. */
export const REHEARSAL_MEASURED_MINUTES = {
  /** uv installs (torch's companions, then Ray/vLLM/NIXL from a local wheelhouse into an existing torch venv): 11 s + 5 s. */
  install: 16 / 60,
  /** LMCache 0.5.6 from its sdist, sm_90, 16 jobs. */
  lmcacheBuild: 117 / 60,
  /** The tiny model (19 s), the checks (26 s first import, 4 s NIXL), Ray (12 s), Prometheus (2 s). */
  setup: (19 + 26 + 4 + 12 + 2) / 60,
  /** `serve deploy` until healthy: 258 s (first, JIT compiles), 149 s and 168 s later: their mean. */
  engineStart: (258 + 149 + 168) / 3 / 60,
  /** Per point besides the engine start: smoke test, `vllm bench serve` of the short workload, 20 s evidence settle, shutdown. */
  point: 1,
} as const;

/** Five configurations × two workloads: one deploy per point (run_all.sh's default), or one per configuration. */
export const REHEARSAL_DEPLOYS = { redeploy: 10, keepOneRouter: 5 } as const;

export function rehearsalMinutes(deploys: number): number {
  const m = REHEARSAL_MEASURED_MINUTES;
  return m.install + m.lmcacheBuild + m.setup + deploys * (m.engineStart + m.point);
}

export interface RehearsalMachine {
  readonly instanceType: string;
  readonly gpus: string;
  readonly vcpus: number;
  readonly memoryGiB: number;
  /** On-demand Linux, us-east-1. */
  readonly hourlyUsd: number;
}

/**
 * Typical instances a rehearsal fits (a CUDA 13 driver, compute capability 8.9, room for the LMCache compile):
 * AWS On-Demand Linux prices in us-east-1 as recorded in the same catalog as the cost review's.
 */
export const REHEARSAL_MACHINES: readonly RehearsalMachine[] = [
  { instanceType: 'g6e.8xlarge', gpus: '1 × NVIDIA L40S', vcpus: 32, memoryGiB: 256, hourlyUsd: 4.52856 },
  { instanceType: 'g6e.12xlarge', gpus: '4 × NVIDIA L40S', vcpus: 48, memoryGiB: 384, hourlyUsd: 10.49264 },
];
export const REHEARSAL_PRICE_SOURCE = REGION_CATALOG_SOURCE;

export function rehearsalCostUsd(machine: RehearsalMachine, deploys: number): number {
  return (machine.hourlyUsd * rehearsalMinutes(deploys)) / 60;
}

/** The table docs/rehearsal.md carries between its rehearsal-cost markers. */
export function rehearsalCostTable(): string {
  const { redeploy, keepOneRouter } = REHEARSAL_DEPLOYS;
  const usd = (x: number) => `$${x.toFixed(2)}`;
  return [
    `| instance | GPUs | $/hour | ${redeploy} engine starts (≈ ${rehearsalMinutes(redeploy).toFixed(1)} min) | ${keepOneRouter} engine starts (≈ ${rehearsalMinutes(keepOneRouter).toFixed(1)} min) |`,
    '|---|---|---|---|---|',
    ...REHEARSAL_MACHINES.map((m) => `| ${m.instanceType} | ${m.gpus} | ${usd(m.hourlyUsd)} | ${usd(rehearsalCostUsd(m, redeploy))} | ${usd(rehearsalCostUsd(m, keepOneRouter))} |`),
  ].join('\n');
}
