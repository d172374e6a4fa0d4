import { ArnFormat, type Stack } from 'aws-cdk-lib';

/** The RDS ARNs the migration test's roles name, by fixed identifiers (literal ARNs, stable cdk-nag ids). */
export function rdsArns(stack: Stack, sourceInstanceId: string, instancePrefix: string) {
  const of = (resource: string, resourceName: string): string =>
    stack.formatArn({ service: 'rds', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  return {
    of,
    /** Every temporary instance: `db:<prefix>*`. */
    tempInstances: of('db', `${instancePrefix}*`),
    /** Automated (`rds:<db>-…`) and manual (`<db>-…`) snapshots of the source. */
    snapshots: [of('snapshot', `rds:${sourceInstanceId}-*`), of('snapshot', `${sourceInstanceId}-*`)],
    /** The engine's default option and parameter groups a restored instance gets. */
    defaultGroups: [of('og', '*'), of('pg', '*')],
    /** Every instance of the account and region. */
    allInstances: of('db', '*'),
  };
}

/**
 * A string as cdk-nag prints it in finding ids: references become `<LogicalId>`,
 * `<LogicalId.Attribute>` or `<AWS::Partition>`.
 */
export function nagString(stack: Stack, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as { Ref?: string; 'Fn::GetAtt'?: string[]; 'Fn::Join'?: [string, unknown[]] };
    if (o.Ref) return `<${o.Ref}>`;
    if (o['Fn::GetAtt']) return `<${o['Fn::GetAtt'].join('.')}>`;
    if (o['Fn::Join']) return o['Fn::Join'][1].map(render).join(o['Fn::Join'][0]);
    throw new Error(`cannot render ${JSON.stringify(v)} for a cdk-nag finding id`);
  };
  return render(stack.resolve(value));
}
