package io.innerq.serving;

/**
 * A generation's KV cache does not fit in {@code spring.ai.innerq.kv.budget}: either never (the request asks for too many
 * tokens for the budget) or not now (running generations hold the rest). The message says which, with the numbers.
 */
public final class KvBudgetExceededException extends RuntimeException {

    private final long neededBytes;
    private final long budgetBytes;
    private final boolean retryable;

    KvBudgetExceededException(String message, long neededBytes, long budgetBytes, boolean retryable) {
        super(message);
        this.neededBytes = neededBytes;
        this.budgetBytes = budgetBytes;
        this.retryable = retryable;
    }

    public long neededBytes() {
        return neededBytes;
    }

    public long budgetBytes() {
        return budgetBytes;
    }

    /** True when the request would fit once running generations end. */
    public boolean retryable() {
        return retryable;
    }
}
