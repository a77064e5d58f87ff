package dev.continuum.api;

import dev.continuum.IntegrationTest;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
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

/** With the waiting queue full, new requests get 429 with Retry-After; the admitted ones still complete. */
@QuarkusTest
@TestProfile(QueueLimitProfile.class)
@IntegrationTest
class QueueLimitTest {
    @TestHTTPResource("/")
    URI base;

    @Test
    void fullQueueAnswers429() throws Exception {
        CompletionApiTest.awaitReady();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            futures.add(http.sendAsync(HttpRequest.newBuilder(base.resolve("/v1/completions"))
                    .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"prompt\": \"Once upon a time\", \"max_tokens\": 400, \"ignore_eos\": true}"))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        int ok = 0;
        int refused = 0;
        for (var f : futures) {
            HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
            if (r.statusCode() == 429) {
                refused++;
                assertTrue(r.headers().firstValue("Retry-After").isPresent());
                assertTrue(r.body().contains("\"type\":\"rate_limit_exceeded\""), r.body());
            } else {
                assertEquals(200, r.statusCode(), r.body());
                ok++;
            }
        }
        assertTrue(refused > 0, "some requests were refused");
        assertTrue(ok >= 2, "the running and the waiting request completed: " + ok);
    }
}
