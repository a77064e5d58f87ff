package dev.continuum.speculative;

import dev.continuum.engine.FinishReason;
import dev.continuum.engine.TokenEvent;
import dev.continuum.engine.TokenSink;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A request's output as the engine streamed it: each choice's tokens, text and finish reason. */
class RecordingSink implements TokenSink {
    final List<List<Integer>> tokens = new ArrayList<>();
    final List<StringBuilder> text = new ArrayList<>();
    final List<FinishReason> reasons = new ArrayList<>();
    final CompletableFuture<RecordingSink> done = new CompletableFuture<>();
    private int open;

    RecordingSink(int n) {
        open = n;
        for (int i = 0; i < n; i++) {
            tokens.add(new ArrayList<>());
            text.add(new StringBuilder());
            reasons.add(null);
        }
    }

    @Override
    public synchronized void onToken(TokenEvent e) {
        tokens.get(e.choice()).add(e.token());
        text.get(e.choice()).append(e.text());
    }

    @Override
    public synchronized void onFinish(int choice, FinishReason reason, String tail, int promptTokens,
                                      int completionTokens) {
        text.get(choice).append(tail);
        reasons.set(choice, reason);
        if (--open == 0) {
            done.complete(this);
        }
    }

    @Override
    public void onError(String message) {
        done.completeExceptionally(new IllegalStateException(message));
    }

    RecordingSink await() throws Exception {
        return done.get(120, TimeUnit.SECONDS);
    }
}
