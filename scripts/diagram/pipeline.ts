import { z } from 'zod';
import type { StackInput } from '../compliance/model';

/** A CodePipeline's stages and actions, in order, read from its template. */

const actionSchema = z.object({
  Name: z.string(),
  RunOrder: z.number().int().default(1),
  ActionTypeId: z.object({ Category: z.string(), Provider: z.string() }),
});

const pipelineSchema = z.object({
  Name: z.unknown().optional(),
  Stages: z.array(z.object({ Name: z.string(), Actions: z.array(actionSchema) })),
});

export interface PipelineAction {
  readonly name: string;
  readonly runOrder: number;
  readonly category: string;
  readonly provider: string;
}

export interface PipelineStage {
  readonly name: string;
  /** Actions grouped by run order: the actions of one group run in parallel, groups in sequence. */
  readonly steps: readonly (readonly PipelineAction[])[];
}

export interface PipelineModel {
  /** The pipeline's name, or its construct path when the name is not a literal. */
  readonly name: string;
  readonly stackPath: string;
  readonly stages: readonly PipelineStage[];
}

interface Resource {
  readonly Type: string;
  readonly Properties?: unknown;
  readonly Metadata?: Record<string, unknown>;
}

/** Every AWS::CodePipeline::Pipeline of the stacks, sorted by stack path and logical id. */
export function pipelinesOf(stacks: readonly StackInput[]): PipelineModel[] {
  const out: PipelineModel[] = [];
  for (const stack of stacks) {
    const resources = (stack.template as { Resources?: Record<string, Resource> }).Resources ?? {};
    for (const [logicalId, r] of Object.entries(resources).sort(([a], [b]) => a.localeCompare(b))) {
      if (r.Type !== 'AWS::CodePipeline::Pipeline') continue;
      const parsed = pipelineSchema.safeParse(r.Properties);
      if (!parsed.success) {
        throw new Error(
          `${stack.stackPath}/${logicalId}: unexpected pipeline shape: ${parsed.error.issues[0].message}`,
        );
      }
      const cdkPath =
        typeof r.Metadata?.['aws:cdk:path'] === 'string' ? r.Metadata['aws:cdk:path'] : logicalId;
      out.push({
        name: typeof parsed.data.Name === 'string' ? parsed.data.Name : cdkPath,
        stackPath: stack.stackPath,
        stages: parsed.data.Stages.map((s) => {
          const orders = [...new Set(s.Actions.map((a) => a.RunOrder))].sort((a, b) => a - b);
          return {
            name: s.Name,
            steps: orders.map((order) =>
              s.Actions.filter((a) => a.RunOrder === order)
                .map((a) => ({
                  name: a.Name,
                  runOrder: a.RunOrder,
                  category: a.ActionTypeId.Category,
                  provider: a.ActionTypeId.Provider,
                }))
                .sort((a, b) => a.name.localeCompare(b.name)),
            ),
          };
        }),
      });
    }
  }
  return out;
}
