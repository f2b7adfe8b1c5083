/**
 * A tiny builder of DynamoDB update and condition expressions with their attribute-name
 * and -value maps, so every lease write names attributes through placeholders (no clash
 * with DynamoDB's reserved words) and never SETs and REMOVEs the same attribute.
 * @module
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

type Action = { readonly kind: 'SET'; readonly expr: string } | { readonly kind: 'REMOVE' } | { readonly kind: 'ADD'; readonly value: string };

/** Collects SET / REMOVE / ADD actions and a condition for one UpdateItem (or a condition for Put/Delete). */
export class ExpressionBuilder {
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, AttributeValue> = {};
  private readonly actions = new Map<string, Action>();
  private readonly conditions: string[] = [];

  /** The placeholder of an attribute name (`#leaseOwner`). */
  name(attribute: string): string {
    const placeholder = `#${attribute}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  /** Registers a value under `:key` and returns the placeholder. */
  value(key: string, value: AttributeValue): string {
    const placeholder = `:${key}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** `SET attribute = expr`; `expr` may use {@link name}/{@link value} placeholders. Replaces an earlier action on it. */
  set(attribute: string, expr: string): this {
    this.actions.set(attribute, { kind: 'SET', expr });
    return this;
  }

  /** `SET attribute = :value` with a fresh value placeholder. */
  setValue(attribute: string, value: AttributeValue): this {
    return this.set(attribute, this.value(`v_${attribute}`, value));
  }

  /** `REMOVE attribute`. Replaces an earlier action on it. */
  remove(...attributes: string[]): this {
    for (const attribute of attributes) this.actions.set(attribute, { kind: 'REMOVE' });
    return this;
  }

  /** `ADD attribute :value` (number increment or set union). */
  add(attribute: string, value: AttributeValue): this {
    this.actions.set(attribute, { kind: 'ADD', value: this.value(`a_${attribute}`, value) });
    return this;
  }

  /** Adds a clause to the condition; clauses are joined with AND. */
  condition(clause: string): this {
    this.conditions.push(clause);
    return this;
  }

  /** The UpdateExpression, or `undefined` when there are no actions. */
  updateExpression(): string | undefined {
    const groups: Record<Action['kind'], string[]> = { SET: [], REMOVE: [], ADD: [] };
    for (const [attribute, action] of this.actions) {
      const n = this.name(attribute);
      if (action.kind === 'SET') groups.SET.push(`${n} = ${action.expr}`);
      else if (action.kind === 'ADD') groups.ADD.push(`${n} ${action.value}`);
      else groups.REMOVE.push(n);
    }
    const parts = (Object.keys(groups) as Action['kind'][])
      .filter((kind) => groups[kind].length > 0)
      .map((kind) => `${kind} ${groups[kind].join(', ')}`);
    return parts.length > 0 ? parts.join(' ') : undefined;
  }

  /**
   * The expression fields of a command input: `UpdateExpression` (when there are actions),
   * `ConditionExpression` (when there are clauses) and the placeholder maps.
   */
  build(): {
    UpdateExpression?: string;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
  } {
    const update = this.updateExpression(); // registers the action names first
    const condition = this.conditions.length > 0 ? this.conditions.join(' AND ') : undefined;
    // Keep only the placeholders the final expressions use: DynamoDB rejects unused ones,
    // and an action replaced by a later one may have registered some.
    const used = new Set(`${update ?? ''} ${condition ?? ''}`.match(/[#:][A-Za-z0-9_]+/g) ?? []);
    const names = Object.fromEntries(Object.entries(this.names).filter(([k]) => used.has(k)));
    const values = Object.fromEntries(Object.entries(this.values).filter(([k]) => used.has(k)));
    return {
      ...(update !== undefined ? { UpdateExpression: update } : {}),
      ...(condition !== undefined ? { ConditionExpression: condition } : {}),
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    };
  }
}
