import { readFileSync } from 'node:fs';
import {
  buildASTSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  parse,
  type GraphQLNamedType,
} from 'graphql';

/**
 * Types, fields and enum values of a subgraph's SDL (schema/common.graphql +
 * schema/<name>.graphql) that have no description: GraphiQL's Docs pane shows descriptions, and
 * every public type and field must have one. Federation's own types and directives are ignored.
 */
export function undocumented(name: string, dir = new URL('.', import.meta.url)): string[] {
  const sdl = ['common', name].map((f) => readFileSync(new URL(`${f}.graphql`, dir), 'utf8')).join('\n');
  const doc = parse(sdl.replace(/^extend schema[\s\S]*?\)\n/m, ''));
  const schema = buildASTSchema(doc, { assumeValid: true, assumeValidSDL: true });
  const out: string[] = [];
  const own = (t: GraphQLNamedType) =>
    !t.name.startsWith('__') && !['String', 'Int', 'Float', 'Boolean', 'ID'].includes(t.name);
  for (const t of Object.values(schema.getTypeMap()).filter(own)) {
    const entityStub =
      isObjectType(t) &&
      !['Query', 'Subscription'].includes(t.name) &&
      t.astNode?.directives?.some((d) => d.name.value === 'key');
    if (!t.description && !['Query', 'Subscription'].includes(t.name)) out.push(t.name);
    if (isObjectType(t) || isInterfaceType(t) || isInputObjectType(t)) {
      for (const f of Object.values(t.getFields())) {
        // An entity's key field (`id`) is documented by its type.
        if (entityStub && f.name === 'id') continue;
        if (!f.description) out.push(`${t.name}.${f.name}`);
      }
    }
    if (isEnumType(t))
      for (const v of t.getValues())
        if (!v.description && !SELF_EXPLAINING_ENUMS.has(t.name)) out.push(`${t.name}.${v.name}`);
  }
  return out;
}

/** Enums whose values are the documented field names they sort or group by. */
const SELF_EXPLAINING_ENUMS = new Set([
  'Direction',
  'ProductionGroup',
  'ProductionOrderField',
  'ErrorGroup',
  'QualityGroup',
  'QualityOrderField',
  'EnergyGroup',
  'EnergyOrderField',
  'TemperatureGroup',
  'AttendanceGroup',
  'WorkerOrderField',
  'ToolOrderField',
  'UpdateKind',
  'Grain',
  'RepairStatus',
  'OrderKind',
]);
