package dev.continuum.api;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs a request's preparation (JSON parsing, validation, chat templating, tokenizing: milliseconds usually, seconds
 * for a prompt of megabytes) on a small pool of its own instead of the Vert.x event loop, which serves every other
 * connection on it meanwhile. The pool is bounded (one thread per core, at least two) so a burst of huge prompts
 * queues here rather than taking every thread of the process; the outcome comes back on the request's context.
 */
@ApplicationScoped
public class BlockingWork {
    private final WorkerExecutor executor;

    public BlockingWork(Vertx vertx) {
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        // Tokenizing may legitimately take long (a 10 MB /tokenize): no blocked-worker warning under ten minutes.
        this.executor = vertx.createSharedWorkerExecutor("continuum-request-preparation", threads, 10, TimeUnit.MINUTES);
    }

    /** Runs {@code work} off the event loop; {@code onResult} or {@code onFailure} then runs on {@code context}. */
    <T> void run(Context context, Callable<T> work, Consumer<T> onResult, Consumer<Throwable> onFailure) {
        executor.executeBlocking(work, false).onComplete(ar -> context.runOnContext(v -> {
            if (ar.succeeded()) {
                onResult.accept(ar.result());
            } else {
                onFailure.accept(ar.cause());
            }
        }));
    }

    @PreDestroy
    void close() {
        executor.close();
    }
}
