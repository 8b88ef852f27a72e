import { type BudgetUsage, InflightBudget } from '../src/domain/inflight-budget';

describe('InflightBudget', () => {
  it('takes requests whole while both limits hold, and refuses one that would pass either', () => {
    const budget = new InflightBudget({ maxMessages: 5, maxBytes: 1_000 });
    expect(budget.tryTake(3, 300)).toBe(true);
    expect(budget.tryTake(3, 100)).toBe(false);
    expect(budget.tryTake(1, 800)).toBe(false);
    expect(budget.usage).toEqual({ messages: 3, bytes: 300 });
    expect(budget.tryTake(2, 700)).toBe(true);
    expect(budget.usage).toEqual({ messages: 5, bytes: 1_000 });
  });

  it('takes requests again once released, and reports every change', () => {
    const changes: BudgetUsage[] = [];
    const budget = new InflightBudget({ maxMessages: 2, maxBytes: 1_000 }, (usage) => changes.push(usage));
    expect(budget.tryTake(2, 10)).toBe(true);
    expect(budget.tryTake(1, 10)).toBe(false);
    budget.release(1, 4);
    expect(budget.tryTake(1, 10)).toBe(true);
    budget.release(2, 16);
    expect(changes).toEqual([
      { messages: 2, bytes: 10 },
      { messages: 1, bytes: 6 },
      { messages: 2, bytes: 16 },
      { messages: 0, bytes: 0 },
    ]);
  });
});
