/**
 * The construct package p5-ray-kv-cluster (packages/p5-ray-kv-cluster, built from this file and what it imports): the
 * P5RayCluster construct for your own CDK app, the settings schema it validates against, and the app-level cost
 * review. Everything imported from here ships to consumers, and so do its dependencies: keep report, chart, ops,
 * capacity, preflight and AWS SDK code out (test/package.test.ts checks). See README.md and docs/architecture.md.
 */
export { COST_TAG_KEY, P5RayCluster, clustersIn } from './cluster/p5-ray-cluster';
export type { ClusterCommands, P5RayClusterProps } from './cluster/p5-ray-cluster';
export type { ClusterSettingsProps } from './cluster/settings-props.generated';
export { P5RayClusterStack, clusterProps } from './stack';
export type { P5RayClusterStackProps } from './stack';
export { parseClusterConfig, hasSeparateHead } from './config/cluster-config';
export type { ClusterConfig, EfaLayout, NixlBackend, RawConfig } from './config/cluster-config';
export { ConfigError } from './config/errors';
export { SETTINGS, SETTING_KEYS } from './config/schema';
export type { SettingSpec, SettingScope } from './config/schema';
export { collectRawConfig } from './config/sources';
export { reviewClusterCosts } from './cluster/cost-review';
export type { ClusterCostReview, ClusterCostReviewOptions } from './cluster/cost-review';
export { buildCostReport, formatCostMarkdown, formatCostTable, reviewCost, writeCostReport } from './cost';
export type { CostInputs, CostLine, CostReport } from './cost';
export { SpendGuard } from './guard/spend-guard';
export type { SpendGuardProps } from './guard/spend-guard';
export { ServeBundle } from './serve/serve-bundle';
export { DEPLOY_CACHE_STACK_NAME, DeployCacheStack, defaultDeployCacheBucketName } from './cache/deploy-cache';
export type { DeployCacheStackProps } from './cache/deploy-cache';
