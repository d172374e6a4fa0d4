import type { CfnResource, CfnTemplate } from './templates';

/** An imported resource's definition as the import change set carries it, and what was left out. */
export interface ImportDefinition {
  readonly logicalId: string;
  readonly definition: CfnResource;
  /** Properties left out because they refer to resources that are not in the stack yet. */
  readonly deferred: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether a template value refers to something the import change set cannot resolve: a
 * resource of the stack that is neither imported now nor already in the stack, or another
 * stack's output (the producer's outputs do not exist before the pipeline deploys it).
 */
export function refersOutside(value: unknown, available: ReadonlySet<string>): boolean {
  const outside = (id: string) => !id.startsWith('AWS::') && !available.has(id.split('.')[0] ?? id);
  if (Array.isArray(value)) return value.some((v) => refersOutside(v, available));
  if (!isObject(value)) return false;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Fn::GetStackOutput' || key === 'Fn::ImportValue') return true;
    if (key === 'Ref' && typeof inner === 'string' && outside(inner)) return true;
    if (key === 'Fn::GetAtt') {
      const target = Array.isArray(inner) ? inner[0] : typeof inner === 'string' ? inner : undefined;
      if (typeof target === 'string' && outside(target)) return true;
    }
    if (key === 'Fn::Sub') {
      const text = Array.isArray(inner) ? inner[0] : inner;
      const vars = Array.isArray(inner) && isObject(inner[1]) ? Object.keys(inner[1]) : [];
      if (typeof text === 'string') {
        for (const [, name] of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          if (name && !vars.includes(name) && outside(name)) return true;
        }
      }
    }
    if (refersOutside(inner, available)) return true;
  }
  return false;
}

/**
 * The definition of a resource to import, reduced to what CloudFormation can resolve during
 * the import: top-level properties that refer outside (`refersOutside`) and dependencies on
 * resources that are not there are left out. CloudFormation does not apply properties on
 * import; the pipeline's first deploy sets the left-out ones (an update of the resource).
 */
export function importDefinition(
  logicalId: string,
  resource: CfnResource,
  available: ReadonlySet<string>,
): ImportDefinition {
  const properties: Record<string, unknown> = {};
  const deferred: string[] = [];
  for (const [key, value] of Object.entries(resource.Properties ?? {})) {
    if (refersOutside(value, available)) deferred.push(key);
    else properties[key] = value;
  }
  const definition: CfnResource = { Type: resource.Type, Properties: properties };
  if (resource.DeletionPolicy) definition.DeletionPolicy = resource.DeletionPolicy;
  if (resource.UpdateReplacePolicy) definition.UpdateReplacePolicy = resource.UpdateReplacePolicy;
  const dependsOn = [resource.DependsOn ?? []].flat().filter((d) => available.has(d));
  if (dependsOn.length > 0) definition.DependsOn = dependsOn;
  if (resource.Metadata !== undefined) definition.Metadata = resource.Metadata;
  return { logicalId, definition, deferred };
}

/**
 * The template of an import change set: the stack's current template (nothing of it may
 * change during an import) plus the resources to import.
 */
export function importTemplate(
  current: CfnTemplate | undefined,
  imports: { logicalId: string; resource: CfnResource }[],
): { template: CfnTemplate; definitions: ImportDefinition[] } {
  const base: CfnTemplate = current ?? {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'Resources imported by "npm run ops -- takeover import"; the pipeline deploys the rest.',
    Resources: {},
  };
  const available = new Set([...Object.keys(base.Resources ?? {}), ...imports.map((i) => i.logicalId)]);
  const definitions = imports.map((i) => importDefinition(i.logicalId, i.resource, available));
  const resources = { ...(base.Resources ?? {}) };
  for (const d of definitions) resources[d.logicalId] = d.definition;
  return { template: { ...base, Resources: resources }, definitions };
}
