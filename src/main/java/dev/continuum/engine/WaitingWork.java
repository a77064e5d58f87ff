package dev.continuum.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What is submitted but not yet admitted to the running batch: a count of requests (what max-waiting bounds) and
 * their work in tokens, prompt plus max_tokens per choice (what max-waiting-tokens bounds). Requests are added
 * from any thread and leave from the engine thread when first scheduled or ended unscheduled.
 */
final class WaitingWork {
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicLong tokens = new AtomicLong();

    /** The tokens a request asks of the engine: its prompt once (choices share it) and max_tokens per choice. */
    static long workOf(GenerationRequest r) {
        return r.prompt().length + (long) r.n() * r.maxTokens();
    }

    /**
     * Counts {@code r} in, unless that would pass a limit. A request is always let in when nothing waits, so one
     * larger than the token limit is served alone instead of never.
     *
     * @return null when admitted, else which limit refused it
     */
    QueueFullException.Limit tryAdd(ActiveRequest r, int maxRequests, long maxTokens) {
        if (requests.incrementAndGet() > maxRequests) {
            requests.decrementAndGet();
            return QueueFullException.Limit.REQUESTS;
        }
        long before = tokens.getAndAdd(r.work);
        if (before > 0 && before + r.work > maxTokens) {
            tokens.addAndGet(-r.work);
            requests.decrementAndGet();
            return QueueFullException.Limit.TOKENS;
        }
        return null;
    }

    /** {@code r} was scheduled for the first time, or ended before it ever was. */
    void admitted(ActiveRequest r) {
        requests.decrementAndGet();
        tokens.addAndGet(-r.work);
    }

    int requests() {
        return requests.get();
    }

    long tokens() {
        return tokens.get();
    }
}
