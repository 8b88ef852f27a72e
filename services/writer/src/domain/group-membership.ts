/**
 * The partitions this instance owns, as the consumer group's events tell it: the assignment of the
 * last join, none after leaving, and none once no heartbeat has passed within the session timeout
 * (the coordinator has dropped the member by then, and kafkajs rejoins after UNKNOWN_MEMBER_ID
 * without a rebalancing event).
 */
export class GroupMembership {
  private assignment: Record<string, number[]> = {};
  private heardAt = 0;

  constructor(
    private readonly sessionTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  joined(assignment: Record<string, number[]>): void {
    this.assignment = assignment;
    this.heardAt = this.now();
  }

  heartbeat(): void {
    this.heardAt = this.now();
  }

  left(): void {
    this.assignment = {};
  }

  owned(topic: string): ReadonlySet<number> {
    if (this.now() - this.heardAt >= this.sessionTimeoutMs) return new Set();
    return new Set(this.assignment[topic] ?? []);
  }
}
