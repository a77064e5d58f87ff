package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.IntegrationTest;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 10 MB prompt (under the body limit) used to be tokenized on the event loop before its length was checked,
 * blocking the loop for 8-35 s ("has been blocked for 7963 ms") while every other request on it waited. Now
 * requests are prepared off the loop, and a prompt whose bytes alone prove it cannot fit is refused without
 * tokenizing. One event loop here, so a blocked loop would delay every request.
 */
@QuarkusTest
@TestProfile(SingleEventLoopProfile.class)
@IntegrationTest
class LargePromptTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int HUGE = 10_000_000;
    /** Long enough to tokenize (seconds) that small requests certainly run meanwhile. */
    private static final int TOKENIZED = 500_000;
    /** Vert.x warns of a loop blocked past 2 s; a small request on a free loop takes milliseconds. */
    private static final Duration SMALL_REQUEST_BOUND = Duration.ofSeconds(2);

    @TestHTTPResource("/")
    URI base;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    private static String text(int bytes) {
        String sentence = "Once upon a time, there was a little girl named Lily. ";
        StringBuilder sb = new StringBuilder(bytes + sentence.length());
        while (sb.length() < bytes) {
            sb.append(sentence);
        }
        sb.setLength(bytes);
        return sb.toString();
    }

    private CompletableFuture<HttpResponse<String>> postAsync(String route, String body) {
        return http.sendAsync(HttpRequest.newBuilder(base.resolve(route)).timeout(Duration.ofSeconds(300))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Collects the warnings of Vert.x's blocked-thread checker (it logs through JBoss LogManager, i.e. JUL). */
    private static final class BlockedWarnings extends Handler implements AutoCloseable {
        final List<String> messages = new CopyOnWriteArrayList<>();
        private final Logger logger = Logger.getLogger("io.vertx.core.impl.BlockedThreadChecker");

        BlockedWarnings() {
            setLevel(Level.ALL);
            logger.addHandler(this);
        }

        @Override
        public void publish(LogRecord r) {
            messages.add(String.valueOf(r.getMessage()));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    @Test
    void aPromptThatCannotFitIsRefusedByItsBytesWithoutTokenizing() throws Exception {
        HttpResponse<String> r = postAsync("/v1/completions",
                JSON.writeValueAsString(java.util.Map.of("prompt", text(HUGE), "max_tokens", 4)))
                .get(300, TimeUnit.SECONDS);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals("invalid_request_error", error.get("type").asText());
        assertEquals("prompt", error.get("param").asText());
        assertEquals("context_length_exceeded", error.get("code").asText());
        // The bound, not a count: the prompt was never tokenized.
        assertTrue(error.get("message").asText().contains("10000000 bytes, so at least"), r.body());
        assertTrue(error.get("message").asText().contains("(max-model-len) is 512 tokens"), r.body());
    }

    @Test
    void aChatPromptThatCannotFitIsRefusedByItsRenderedBytesWithoutTokenizing() throws Exception {
        HttpResponse<String> r = postAsync("/v1/chat/completions", JSON.writeValueAsString(java.util.Map.of(
                "messages", java.util.List.of(java.util.Map.of("role", "user", "content", text(HUGE))),
                "max_tokens", 4))).get(300, TimeUnit.SECONDS);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals("messages", error.get("param").asText());
        assertEquals("context_length_exceeded", error.get("code").asText());
        assertTrue(error.get("message").asText().contains("the rendered chat prompt is 100000"), r.body());
        assertTrue(error.get("message").asText().contains("(max-model-len) is 512 tokens"), r.body());
    }

    @Test
    void smallRequestsAreServedPromptlyWhileHugePromptsAreInFlight() throws Exception {
        try (BlockedWarnings blocked = new BlockedWarnings()) {
            // A 10 MB completion (refused by its length) and a 500 kB /tokenize (tokenized for seconds: it has no
            // context limit) are in flight together; small completions run one after another meanwhile.
            CompletableFuture<HttpResponse<String>> hugeCompletion = postAsync("/v1/completions",
                    JSON.writeValueAsString(java.util.Map.of("prompt", text(HUGE), "max_tokens", 4)));
            CompletableFuture<HttpResponse<String>> hugeTokenize = postAsync("/tokenize",
                    JSON.writeValueAsString(java.util.Map.of("prompt", text(TOKENIZED))));
            int servedWhileTokenizing = 0;
            long slowest = 0;
            while (!hugeTokenize.isDone() || !hugeCompletion.isDone()) {
                long start = System.nanoTime();
                HttpResponse<String> small = postAsync("/v1/completions",
                        "{\"prompt\": \"Once upon a time\", \"max_tokens\": 2}").get(300, TimeUnit.SECONDS);
                long took = System.nanoTime() - start;
                assertEquals(200, small.statusCode(), small.body());
                slowest = Math.max(slowest, took);
                assertTrue(took < SMALL_REQUEST_BOUND.toNanos(), "a small request took " + took / 1_000_000
                        + " ms while the huge prompts were in flight");
                if (!hugeTokenize.isDone()) {
                    servedWhileTokenizing++;
                }
            }
            assertTrue(servedWhileTokenizing > 0, "small requests were served while the huge prompt was tokenized");
            HttpResponse<String> refused = hugeCompletion.get();
            assertEquals(400, refused.statusCode(), refused.body());
            HttpResponse<String> tokenized = hugeTokenize.get();
            assertEquals(200, tokenized.statusCode(), tokenized.body().substring(0, 200));
            assertTrue(JSON.readTree(tokenized.body()).get("count").asInt() > TOKENIZED / 64);
            assertEquals(List.of(), blocked.messages, "no event loop was blocked (slowest small request "
                    + slowest / 1_000_000 + " ms, " + servedWhileTokenizing + " served while tokenizing)");
        }
    }
}
