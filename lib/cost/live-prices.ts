import type { PricingClient } from '@aws-sdk/client-pricing';
import { RegionPriceTable, priceTable } from '../catalog/prices';

export interface LiveRefreshOptions {
  /** For tests or a proxy; the Price List API itself is served from us-east-1. */
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Give up after this long: a cost review must never hold up a synth for minutes. */
  readonly timeoutMs?: number;
}

export interface LiveRefreshResult {
  /** The dated table with the live on-demand prices merged in, or the table alone after a failure. */
  readonly prices: RegionPriceTable | undefined;
  /** The instance prices read live (empty after a failure): they win over every table. */
  readonly instancePrices: Readonly<Record<string, number>>;
  readonly live: boolean;
  readonly warnings: readonly string[];
}

/**
 * Reads current on-demand Linux prices for the given instance types from the AWS Price List API and merges them
 * over the dated table. Any failure (no credentials, no network, throttling, an odd answer) falls back to the
 * table with a warning: the live price is a refinement, never a requirement. A missing SDK client is no such
 * failure but an install that cannot ever read live prices (the construct package leaves it to the consumer, as an
 * optional peer dependency): that rejects, naming the package to install.
 */
export async function refreshPricesLive(region: string, instanceTypes: readonly string[],
  options: LiveRefreshOptions = {}): Promise<LiveRefreshResult> {
  const base = priceTable(region);
  // Loaded here, not at the top: only `-c livePrices=true` needs the SDK, and every synth would pay for it. A
  // require, not import(): the cdk CLI runs this file through bin/register-ts.js, where import() has no loader.
  const { PricingClient } = loadPricingSdk();
  const client = new PricingClient({
    region: 'us-east-1',
    endpoint: options.endpoint,
    credentials: options.credentials,
    maxAttempts: 2,
  });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 10_000);
  try {
    const found: Record<string, number> = {};
    const warnings: string[] = [];
    for (const instanceType of [...new Set(instanceTypes)]) {
      const price = await onDemandLinuxHourly(client, region, instanceType, abort.signal);
      if (price === undefined) warnings.push(`live prices: no on-demand Linux price for ${instanceType} in ${region}`);
      else found[instanceType] = price;
    }
    const today = new Date().toISOString().slice(0, 10);
    const source = `AWS Price List API (live, ${today}) for EC2 instances`;
    const prices: RegionPriceTable | undefined = base
      ? { ...base, priceDate: today, source: `${source}; everything else: ${base.source} (${base.priceDate})`,
        ec2OnDemandHourly: { ...base.ec2OnDemandHourly, ...found } }
      : undefined;
    if (!base) {
      warnings.push(`live prices: ${region} has no dated table for the other services; only instance prices are live ` +
        'and the rest of the report stays unknown');
    }
    return { prices, instancePrices: found, live: true, warnings };
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      prices: base,
      instancePrices: {},
      live: false,
      warnings: [`live price refresh failed (${reason}); using the dated table${base ? ` of ${base.priceDate}` : ''}`],
    };
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}

async function onDemandLinuxHourly(client: PricingClient, region: string, instanceType: string,
  abortSignal: AbortSignal): Promise<number | undefined> {
  const term = (Field: string, Value: string) => ({ Type: 'TERM_MATCH' as const, Field, Value });
  const { GetProductsCommand } = loadPricingSdk();
  const out = await client.send(new GetProductsCommand({
    ServiceCode: 'AmazonEC2',
    Filters: [
      term('regionCode', region),
      term('instanceType', instanceType),
      term('operatingSystem', 'Linux'),
      term('tenancy', 'Shared'),
      term('preInstalledSw', 'NA'),
      term('licenseModel', 'No License required'),
      // "Used" excludes the capacity-reservation and Capacity Block SKUs that p5 entries mix in.
      term('capacitystatus', 'Used'),
      term('marketoption', 'OnDemand'),
    ],
    MaxResults: 10,
  }), { abortSignal });
  const items: unknown[] = Array.isArray(out.PriceList) ? out.PriceList : [];
  // The SDK hands each product over as a JSON string, or as a lazy string wrapper object in newer releases.
  const prices = items.flatMap((item) => onDemandUsd(isProduct(item) ? item : JSON.parse(String(item))));
  return prices.length > 0 ? Math.max(...prices) : undefined;
}

/** The SDK client live prices need: an optional peer dependency of the construct package, a dependency of the app. */
const PRICING_SDK = '@aws-sdk/client-pricing';

function loadPricingSdk(): typeof import('@aws-sdk/client-pricing') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, and import() has no loader under the cdk CLI
    return require('@aws-sdk/client-pricing') as typeof import('@aws-sdk/client-pricing');
  } catch (error) {
    // Only the client itself missing: a module missing inside an installed client is a broken install, said as it is.
    const code = (error as { code?: unknown }).code;
    if (code !== 'MODULE_NOT_FOUND' || !String((error as Error).message).includes(`'${PRICING_SDK}'`)) throw error;
    throw new Error(`live prices need ${PRICING_SDK}, an optional peer dependency of p5-ray-kv-cluster that is not ` +
      `installed: npm install ${PRICING_SDK}, or review costs without live (the dated price tables)`);
  }
}

function isProduct(item: unknown): boolean {
  return typeof item === 'object' && item !== null && !(item instanceof String) && 'terms' in item;
}

/** terms.OnDemand.<offer>.priceDimensions.<dim>.pricePerUnit.USD, for hourly dimensions with a non-zero price. */
function onDemandUsd(product: unknown): number[] {
  const onDemand = (product as { terms?: { OnDemand?: Record<string, unknown> } })?.terms?.OnDemand ?? {};
  const result: number[] = [];
  for (const offer of Object.values(onDemand)) {
    const dims = (offer as { priceDimensions?: Record<string, unknown> }).priceDimensions ?? {};
    for (const dim of Object.values(dims)) {
      const d = dim as { unit?: string; pricePerUnit?: { USD?: string } };
      const value = Number(d.pricePerUnit?.USD);
      if (d.unit?.toLowerCase().startsWith('hr') && Number.isFinite(value) && value > 0) result.push(value);
    }
  }
  return result;
}
