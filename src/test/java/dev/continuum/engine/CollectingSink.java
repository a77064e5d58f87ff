package dev.continuum.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Test sink: collects each choice's tokens and text, completes when every choice has finished. Public for the
 * engine's tests in other packages (speculative decoding's).
 */
public class CollectingSink implements TokenSink {
    public final List<List<Integer>> tokens = new ArrayList<>();
    public final List<StringBuilder> text = new ArrayList<>();
    /** Each choice's token events as streamed, log-probabilities included. */
    public final List<List<TokenEvent>> events = new ArrayList<>();
    public final List<FinishReason> reasons = new ArrayList<>();
    public final CompletableFuture<CollectingSink> done = new CompletableFuture<>();
    private int open;

    public CollectingSink(int n) {
        open = n;
        for (int i = 0; i < n; i++) {
            tokens.add(new ArrayList<>());
            text.add(new StringBuilder());
            events.add(new ArrayList<>());
            reasons.add(null);
        }
    }

    @Override
    public synchronized void onToken(TokenEvent e) {
        tokens.get(e.choice()).add(e.token());
        text.get(e.choice()).append(e.text());
        events.get(e.choice()).add(e);
    }

    @Override
    public synchronized void onFinish(int choice, FinishReason reason, String tail, int promptTokens, int completionTokens) {
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

    /** This sink once every choice has finished; fails if the request failed or took more than two minutes. */
    public CollectingSink await() throws Exception {
        return done.get(120, java.util.concurrent.TimeUnit.SECONDS);
    }
}
