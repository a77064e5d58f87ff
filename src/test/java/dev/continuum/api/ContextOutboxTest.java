package dev.continuum.api;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.impl.ContextInternal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ContextOutbox} on a real Vert.x event loop, the test thread standing in for the engine thread. */
class ContextOutboxTest {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Records deliveries with the thread they ran on; every list is only touched on the event loop. */
    private static final class Recorder implements ContextOutbox.Target {
        final String name;
        final List<String> log;
        final List<Thread> threads;

        Recorder(String name, List<String> log, List<Thread> threads) {
            this.name = name;
            this.log = log;
            this.threads = threads;
        }

        @Override
        public void deliver(Object payload) {
            log.add(name + payload);
            threads.add(Thread.currentThread());
        }
    }

    /** Runs {@code probe} on the context after everything queued there before it, and waits for it. */
    private static <T> T onLoop(Context context, java.util.function.Supplier<T> probe) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        context.runOnContext(v -> f.complete(probe.get()));
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void requestsOnOneEventLoopShareItsOutbox() {
        Context root = vertx.getOrCreateContext();
        ContextInternal duplicate = ((ContextInternal) root).duplicate();
        assertSame(ContextOutbox.of(root), ContextOutbox.of(duplicate));
        assertSame(ContextOutbox.of(duplicate), ContextOutbox.of(((ContextInternal) root).duplicate()));
    }

    @Test
    void nothingIsDeliveredBeforeTheFlushAndEverythingInOrderAfterIt() throws Exception {
        Context context = vertx.getOrCreateContext();
        ContextOutbox outbox = ContextOutbox.of(context);
        List<String> log = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        Recorder a = new Recorder("a", log, threads);
        Recorder b = new Recorder("b", log, threads);
        for (int step = 0; step < 3; step++) {
            for (int i = 0; i < 50; i++) { // more than the arrays' first capacity: they grow
                outbox.add(i % 2 == 0 ? a : b, step * 100 + i);
            }
            // A task queued after the adds runs after anything they queued: they queued nothing.
            assertEquals(step * 50, (int) onLoop(context, log::size));
            outbox.flush();
            outbox.flush(); // a second flush of the same step queues no second task, and loses nothing
            List<String> delivered = onLoop(context, () -> new ArrayList<>(log));
            assertEquals((step + 1) * 50, delivered.size());
            for (int i = 0; i < 50; i++) {
                assertEquals((i % 2 == 0 ? "a" : "b") + (step * 100 + i), delivered.get(step * 50 + i));
            }
        }
        Thread loop = onLoop(context, Thread::currentThread);
        assertTrue(threads.stream().allMatch(t -> t == loop), "every delivery runs on the event loop");
        outbox.flush(); // nothing pending: nothing happens
        assertEquals(150, (int) onLoop(context, log::size));
    }

    @Test
    void aFailingDeliveryDoesNotDropTheOthers() throws Exception {
        Context context = vertx.getOrCreateContext();
        ContextOutbox outbox = ContextOutbox.of(context);
        List<String> log = new ArrayList<>();
        ContextOutbox.Target failing = p -> {
            throw new IllegalStateException("boom");
        };
        Recorder ok = new Recorder("ok", log, new ArrayList<>());
        outbox.add(ok, 1);
        outbox.add(failing, 2);
        outbox.add(ok, 3);
        outbox.flush();
        assertEquals(List.of("ok1", "ok3"), onLoop(context, () -> new ArrayList<>(log)));
    }
}
