package dev.continuum.engine;

/**
 * What {@link Scheduler#schedule} decided for one step, read by {@code execute} and {@code update}: the sequences
 * that run, in batch order, and for each how many tokens it contributes ({@code numScheduledTokens}: a prefill
 * chunk, one decode token, or one decode token and {@code numDraftTokens} proposals to verify). Reused from step to
 * step.
 */
final class SchedulerOutput {
    private final Sequence[] sequences;
    private final int[] numScheduledTokens;
    private final int[] numDraftTokens;
    private final int[] firstLogitRow;
    private int count;
    private int totalTokens;
    private long step;

    SchedulerOutput(int maxSequences) {
        sequences = new Sequence[maxSequences];
        numScheduledTokens = new int[maxSequences];
        numDraftTokens = new int[maxSequences];
        firstLogitRow = new int[maxSequences];
    }

    void clear(long step) {
        for (int i = 0; i < count; i++) {
            sequences[i] = null;
        }
        count = 0;
        totalTokens = 0;
        this.step = step;
    }

    /** Schedules {@code tokens} tokens of {@code s} in this step, the last {@code drafts} of them proposals. */
    void add(Sequence s, int tokens, int drafts) {
        if (tokens < 1 || drafts < 0 || drafts >= tokens) {
            throw new IllegalArgumentException(tokens + " tokens with " + drafts + " proposals");
        }
        sequences[count] = s;
        numScheduledTokens[count] = tokens;
        numDraftTokens[count] = drafts;
        firstLogitRow[count] = -1;
        count++;
        totalTokens += tokens;
        s.lastScheduledStep = step;
    }

    /**
     * Records where {@code execute} put entry {@code i}'s logits rows in the step output: its last known token's
     * row, then one per proposal.
     */
    void setFirstLogitRow(int i, int first) {
        firstLogitRow[i] = first;
    }

    long step() {
        return step;
    }

    int count() {
        return count;
    }

    /** Tokens in the step: the forward pass's rows. */
    int totalTokens() {
        return totalTokens;
    }

    Sequence sequence(int i) {
        return sequences[i];
    }

    int numScheduledTokens(int i) {
        return numScheduledTokens[i];
    }

    int numDraftTokens(int i) {
        return numDraftTokens[i];
    }

    /** Output row of entry {@code i}'s first logits, or -1 when the step leaves it mid-prefill. */
    int firstLogitRow(int i) {
        return firstLogitRow[i];
    }

    /** Logits rows of entry {@code i}: none mid-prefill, else the last known token's and one per proposal. */
    int numLogitRows(int i) {
        return firstLogitRow[i] < 0 ? 0 : 1 + numDraftTokens[i];
    }
}
