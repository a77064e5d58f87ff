package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.IntegrationTest;
import dev.continuum.server.ModelHost;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Admission counts tokens: a burst of long requests, far fewer than max-waiting (64 here), is refused with 429
 * once their queued prompt + max_tokens work passes max-waiting-tokens, with a Retry-After estimated from that
 * work and the engine's measured throughput (it was a constant 1).
 */
@QuarkusTest
@TestProfile(TokenAdmissionProfile.class)
@IntegrationTest
class TokenAdmissionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BURST = 40;
    private static final int MAX_TOKENS = 200;

    @TestHTTPResource("/")
    URI base;

    @Inject
    ModelHost host;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private CompletableFuture<HttpResponse<String>> complete(int maxTokens) {
        return http.sendAsync(HttpRequest.newBuilder(base.resolve("/v1/completions"))
                .timeout(Duration.ofSeconds(300)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Once upon a time\", \"max_tokens\": "
                        + maxTokens + ", \"ignore_eos\": true}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aBurstOfLongRequestsIsRefusedByItsTokensWithAComputedRetryAfter() throws Exception {
        CompletionApiTest.awaitReady();
        // One request first, so the engine has measured its throughput.
        assertEquals(200, complete(MAX_TOKENS).get(300, TimeUnit.SECONDS).statusCode());
        double tokensPerSecond = host.engine().tokensPerSecond();
        assertTrue(tokensPerSecond > 0);

        List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
            burst.add(complete(MAX_TOKENS));
        }
        int ok = 0;
        List<Integer> retryAfter = new ArrayList<>();
        for (var f : burst) {
            HttpResponse<String> r = f.get(300, TimeUnit.SECONDS);
            if (r.statusCode() == 429) {
                JsonNode error = JSON.readTree(r.body()).get("error");
                assertEquals("rate_limit_exceeded", error.get("type").asText(), r.body());
                assertTrue(error.get("message").asText().contains("max-waiting-tokens"), r.body());
                retryAfter.add(Integer.parseInt(r.headers().firstValue("Retry-After").orElseThrow()));
            } else {
                assertEquals(200, r.statusCode(), r.body());
                ok++;
            }
        }
        // Each request is about 5 + 200 tokens of work: some 20 fit the queue, one more runs.
        int work = 5 + MAX_TOKENS;
        assertTrue(ok >= TokenAdmissionProfile.MAX_WAITING_TOKENS / work / 2, "admitted " + ok);
        assertTrue(!retryAfter.isEmpty(), "the burst met the token limit");
        // The queue held close to the limit of work when each was refused: Retry-After is that over the throughput.
        int expected = (int) Math.ceil((TokenAdmissionProfile.MAX_WAITING_TOKENS - work) / tokensPerSecond);
        for (int seconds : retryAfter) {
            assertTrue(seconds >= 1 && seconds <= 60, "Retry-After " + seconds);
        }
        System.out.printf("token admission: %d admitted, Retry-After %s, %.0f tokens/s measured before%n", ok,
                retryAfter, tokensPerSecond);
        assertTrue(retryAfter.stream().anyMatch(s -> s >= Math.min(60, Math.max(1, expected / 2))),
                "Retry-After " + retryAfter + " follows the queued work over " + tokensPerSecond + " tokens/s");
    }
}
