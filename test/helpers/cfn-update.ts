/**
 * What a CloudFormation stack update would do, decided offline from the template before and the template after, the
 * way CloudFormation decides it ("Understand update behaviors of stack resources", CloudFormation User Guide,
 * using-cfn-updating-stacks-update-behaviors):
 *
 * - a resource whose properties did not change is left alone;
 * - a change of a create-only property replaces the resource: CloudFormation "usually creates the replacement
 *   resource first, changes references from other dependent resources to point to the replacement resource, and
 *   then deletes the old resource";
 * - a change of a conditionally create-only property of an AWS::EC2::Instance (UserData, InstanceType, …: "Update
 *   requires: Some interruptions" in the AWS::EC2::Instance reference) stops and starts an EBS-backed instance;
 * - any other change is an update without interruption.
 *
 * Which properties are create-only comes from the CloudFormation resource provider schemas
 * (`createOnlyProperties`, `conditionalCreateOnlyProperties`) as cfn-lint ships them (pinned in
 * scripts/setup-python-venv.sh; its data/schemas/providers/<region>.json maps each type to a schema file). The one
 * fact the schemas do not carry: AWS::CloudFormation::WaitCondition's Count, Handle and Timeout "Updates aren't
 * supported" (AWS::CloudFormation::WaitCondition reference).
 *
 * A property also changes when something it references does: a Ref to a replaced resource (a new physical id), a
 * Fn::GetAtt of a replaced resource, of a custom resource that gets an Update (its Data is new), or of a launch
 * template's LatestVersionNumber / DefaultVersionNumber when the template is updated (every update makes a version),
 * and a Ref to a template parameter the caller says resolves differently (an SSM parameter type after AWS published
 * a new value).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type UpdateAction =
  | 'unchanged' | 'update' | 'update with interruption' | 'replacement' | 'update not supported' | 'added' | 'removed';

export interface ResourcePlan {
  readonly logicalId: string;
  readonly type: string;
  readonly action: UpdateAction;
  /** The changed top-level properties (textually or through what they reference). */
  readonly changed: readonly string[];
  /** The create-only, interrupting or unsupported properties that decided the action. */
  readonly because: readonly string[];
}

export interface TemplateJson {
  readonly Parameters?: Record<string, { Type: string }>;
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[] }>;
}

export interface PlanOptions {
  /** Template parameters whose value CloudFormation resolves differently for the update. */
  readonly changedParameters?: readonly string[];
}

/** The facts of one resource type the plan needs, from its provider schema. */
interface TypeFacts {
  readonly createOnly: readonly string[][];
  readonly conditionalCreateOnly: readonly string[][];
}

const REPO = resolve(__dirname, '..', '..');

/** Not in the schemas: "Updates aren't supported" (AWS::CloudFormation::WaitCondition, CloudFormation Template Reference). */
const UPDATE_NOT_SUPPORTED: Readonly<Record<string, readonly string[]>> = {
  'AWS::CloudFormation::WaitCondition': ['Count', 'Handle', 'Timeout'],
};

/** Attributes that change when their resource is updated in place (not only when it is replaced). */
const ATTRIBUTES_CHANGED_BY_UPDATE: Readonly<Record<string, readonly string[] | 'all'>> = {
  'AWS::EC2::LaunchTemplate': ['LatestVersionNumber', 'DefaultVersionNumber'],
  custom: 'all',
};

let schemaDir: string | undefined;

/** cfn-lint's schema folder in the test venv. */
export function cfnLintSchemaDir(): string {
  if (schemaDir) return schemaDir;
  const python = join(REPO, '.test-venv', 'bin', 'python');
  const pkg = execFileSync(python, ['-c', 'import cfnlint, os; print(os.path.dirname(cfnlint.__file__))'], { encoding: 'utf8' }).trim();
  schemaDir = join(pkg, 'data', 'schemas');
  return schemaDir;
}

/** The cfn-lint version and its schemas' date, for messages. */
export function cfnLintVersion(): string {
  const python = join(REPO, '.test-venv', 'bin', 'python');
  const version = execFileSync(python, ['-c', 'import cfnlint.version as v; print(v.__version__)'], { encoding: 'utf8' }).trim();
  const date = (JSON.parse(readFileSync(join(cfnLintSchemaDir(), 'version.json'), 'utf8')) as { schema_date?: string }).schema_date;
  return `cfn-lint ${version} (schemas of ${date ?? 'unknown date'})`;
}

const factsCache = new Map<string, TypeFacts>();

/** The create-only facts of a resource type, from its provider schema (us-east-1's: the types are the same). */
export function typeFacts(type: string): TypeFacts {
  const key = isCustom(type) ? 'AWS::CloudFormation::CustomResource' : type;
  const cached = factsCache.get(key);
  if (cached) return cached;
  const providers = JSON.parse(readFileSync(join(cfnLintSchemaDir(), 'providers', 'us-east-1.json'), 'utf8')) as Record<string, string>;
  const file = providers[key];
  if (!file) throw new Error(`no CloudFormation schema for ${key} in ${cfnLintSchemaDir()}`);
  const schema = JSON.parse(readFileSync(join(cfnLintSchemaDir(), 'resources', `${file}.json`), 'utf8')) as {
    createOnlyProperties?: string[]; conditionalCreateOnlyProperties?: string[];
  };
  const pointers = (list: string[] | undefined) => (list ?? []).map((p) => p.replace(/^\/properties\//, '').split('/'));
  const facts = { createOnly: pointers(schema.createOnlyProperties), conditionalCreateOnly: pointers(schema.conditionalCreateOnlyProperties) };
  factsCache.set(key, facts);
  return facts;
}

function isCustom(type: string): boolean {
  return type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
}

/** What an update from `before` to `after` does to each resource. */
export function planUpdate(before: TemplateJson, after: TemplateJson, options: PlanOptions = {}): Map<string, ResourcePlan> {
  const plans = new Map<string, ResourcePlan>();
  const changedParameters = new Set(options.changedParameters ?? []);
  const ids = [...new Set([...Object.keys(before.Resources), ...Object.keys(after.Resources)])];
  const visiting = new Set<string>();

  const planOf = (id: string): ResourcePlan => {
    const known = plans.get(id);
    if (known) return known;
    const old = before.Resources[id];
    const now = after.Resources[id];
    if (!old || !now) {
      const plan: ResourcePlan = { logicalId: id, type: (now ?? old).Type, action: now ? 'added' : 'removed', changed: [], because: [] };
      plans.set(id, plan);
      return plan;
    }
    if (visiting.has(id)) throw new Error(`reference cycle through ${id}`);
    visiting.add(id);
    const props = [...new Set([...Object.keys(old.Properties ?? {}), ...Object.keys(now.Properties ?? {})])];
    const valueOf = (p: Record<string, unknown> | undefined, path: readonly string[]) =>
      path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), p);
    const differs = (path: readonly string[]) => {
      const a = valueOf(old.Properties, path);
      const b = valueOf(now.Properties, path);
      return JSON.stringify(a) !== JSON.stringify(b) || referencesChange(b);
    };
    const referencesChange = (value: unknown): boolean => references(value).some((ref) => {
      if (ref.kind === 'Ref' && changedParameters.has(ref.target)) return true;
      if (!(ref.target in after.Resources)) return false;
      const target = planOf(ref.target);
      if (['replacement', 'added', 'removed'].includes(target.action)) return true;
      if (ref.kind === 'GetAtt' && ['update', 'update with interruption'].includes(target.action)) {
        const changing = ATTRIBUTES_CHANGED_BY_UPDATE[isCustom(target.type) ? 'custom' : target.type];
        return changing === 'all' || (changing ?? []).includes(ref.attribute ?? '');
      }
      return false;
    });
    const changed = props.filter((p) => differs([p]));
    let plan: ResourcePlan;
    if (changed.length === 0) {
      plan = { logicalId: id, type: now.Type, action: 'unchanged', changed, because: [] };
    } else {
      const facts = typeFacts(now.Type);
      const hit = (paths: readonly string[][]) => paths.filter((p) => differs(p)).map((p) => p.join('.'));
      const unsupported = (UPDATE_NOT_SUPPORTED[now.Type] ?? []).filter((p) => changed.includes(p));
      const createOnly = hit(facts.createOnly);
      const conditional = hit(facts.conditionalCreateOnly);
      const [action, because]: [UpdateAction, string[]] = unsupported.length > 0 ? ['update not supported', unsupported]
        : createOnly.length > 0 ? ['replacement', createOnly]
          : conditional.length > 0 ? ['update with interruption', conditional]
            : ['update', []];
      plan = { logicalId: id, type: now.Type, action, changed, because };
    }
    visiting.delete(id);
    plans.set(id, plan);
    return plan;
  };

  for (const id of ids) planOf(id);
  return plans;
}

interface Reference { readonly kind: 'Ref' | 'GetAtt'; readonly target: string; readonly attribute?: string }

/** Every Ref, Fn::GetAtt and ${…} of a Fn::Sub inside a value (pseudo parameters left out). */
export function references(value: unknown): Reference[] {
  const out: Reference[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(walk); return; }
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof o.Ref === 'string') {
      if (!o.Ref.startsWith('AWS::')) out.push({ kind: 'Ref', target: o.Ref });
      return;
    }
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const ga = o['Fn::GetAtt'];
      const [target, attribute] = Array.isArray(ga) ? ga as string[] : String(ga).split('.');
      out.push({ kind: 'GetAtt', target, attribute });
      return;
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const sub = o['Fn::Sub'];
      const text = Array.isArray(sub) ? String(sub[0]) : String(sub);
      const vars = Array.isArray(sub) && sub[1] && typeof sub[1] === 'object' ? sub[1] as Record<string, unknown> : {};
      for (const m of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
        const [target, attribute] = m[1].split('.');
        if (target.startsWith('AWS::') || target in vars) continue;
        out.push(attribute ? { kind: 'GetAtt', target, attribute } : { kind: 'Ref', target });
      }
      walk(vars);
      return;
    }
    Object.values(o).forEach(walk);
  };
  walk(value);
  return out;
}

/** The plan's resources by action, logical ids sorted: the shape the tests state expectations in. */
export function byAction(plan: Map<string, ResourcePlan>): Partial<Record<UpdateAction, string[]>> {
  const out: Partial<Record<UpdateAction, string[]>> = {};
  for (const p of [...plan.values()].sort((a, b) => a.logicalId.localeCompare(b.logicalId))) {
    if (p.action === 'unchanged') continue;
    (out[p.action] ??= []).push(p.logicalId);
  }
  return out;
}

/** The SSM-typed template parameters: CloudFormation resolves them anew at every deploy. */
export function ssmParameters(template: TemplateJson): string[] {
  return Object.entries(template.Parameters ?? {}).filter(([, p]) => p.Type.startsWith('AWS::SSM::Parameter::Value<')).map(([k]) => k);
}
