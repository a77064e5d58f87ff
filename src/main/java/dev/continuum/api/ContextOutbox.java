package dev.continuum.api;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.impl.ContextInternal;
import org.jboss.logging.Logger;

/**
 * Engine output on its way to one event loop: the engine thread adds every call's deliveries here in order and, at
 * the end of each step ({@link dev.continuum.engine.TokenSink#onStepEnd}), hands all of them to the loop in one
 * task. Handing each token over by itself woke the loop once per token: at 16 streams, 16 wake-ups (an eventfd
 * write each) on the engine thread per step, the thread every step waits for.
 *
 * <p>One outbox serves every request whose context runs on the same event loop (Quarkus gives each request a
 * duplicated context; the outbox belongs to the one they duplicate). Entries are (target, payload) pairs in two
 * arrays that swap at each drain, so a steady stream adds nothing but its events to the heap.
 */
final class ContextOutbox {
    /** Receives one payload on the event loop, in the order it was added. */
    interface Target {
        void deliver(Object payload);
    }

    private static final Logger LOG = Logger.getLogger(ContextOutbox.class);
    private static final Object KEY = ContextOutbox.class;

    private final Context context;
    private final Handler<Void> drainTask = v -> drain();
    /** Guarded by {@code this}: the engine thread fills it, the drain swaps it with {@link #draining}. */
    private Object[] filling = new Object[64];
    private int filled;
    /** The event loop's: the entries of the drain in progress. */
    private Object[] draining = new Object[64];
    /** Guarded by {@code this}: a drain task is queued on the loop and has not swapped the arrays yet. */
    private boolean queued;

    private ContextOutbox(Context context) {
        this.context = context;
    }

    /** The outbox of the event loop that {@code context} (or the context it duplicates) runs on. */
    static ContextOutbox of(Context context) {
        ContextInternal root = ((ContextInternal) context).unwrap();
        return (ContextOutbox) root.contextData().computeIfAbsent(KEY, k -> new ContextOutbox(root));
    }

    /** On the engine thread: queues {@code payload} for {@code target}, delivered at the next {@link #flush}. */
    synchronized void add(Target target, Object payload) {
        if (filled + 2 > filling.length) {
            Object[] grown = new Object[filling.length * 2];
            System.arraycopy(filling, 0, grown, 0, filled);
            filling = grown;
        }
        filling[filled++] = target;
        filling[filled++] = payload;
    }

    /** On the engine thread: one task on the loop for everything added, unless one is queued already. */
    void flush() {
        synchronized (this) {
            if (queued || filled == 0) {
                return;
            }
            queued = true;
        }
        context.runOnContext(drainTask);
    }

    private void drain() {
        Object[] entries;
        int n;
        synchronized (this) {
            entries = filling;
            n = filled;
            filling = draining;
            filled = 0;
            queued = false;
        }
        draining = entries;
        for (int i = 0; i < n; i += 2) {
            Target target = (Target) entries[i];
            Object payload = entries[i + 1];
            entries[i] = null;
            entries[i + 1] = null;
            try {
                target.deliver(payload);
            } catch (RuntimeException e) {
                // One call's failure must not drop the other calls' tokens queued behind it.
                LOG.error("delivering engine output failed", e);
            }
        }
    }
}
