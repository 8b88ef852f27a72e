export interface BudgetLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
}

export interface BudgetUsage {
  readonly messages: number;
  readonly bytes: number;
}

/**
 * Messages and bytes accepted but not yet settled with the broker (queued or being sent). A
 * request is taken whole or not at all, so a full budget answers at once instead of queueing.
 */
export class InflightBudget {
  private messages = 0;
  private bytes = 0;

  constructor(
    private readonly limits: BudgetLimits,
    private readonly onChange: (usage: BudgetUsage) => void = () => {},
  ) {}

  get usage(): BudgetUsage {
    return { messages: this.messages, bytes: this.bytes };
  }

  /** Takes the request into the budget; false (and nothing taken) when it would exceed a limit. */
  tryTake(messages: number, bytes: number): boolean {
    if (this.messages + messages > this.limits.maxMessages || this.bytes + bytes > this.limits.maxBytes) {
      return false;
    }
    this.add(messages, bytes);
    return true;
  }

  release(messages: number, bytes: number): void {
    this.add(-messages, -bytes);
  }

  private add(messages: number, bytes: number): void {
    this.messages += messages;
    this.bytes += bytes;
    this.onChange(this.usage);
  }
}
