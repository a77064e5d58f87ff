package dev.continuum.deploy;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real scrape of the running server is valid Prometheus exposition (promtool check metrics) and contains every
 * metric the alert rules and the Grafana dashboard query, so neither watches a name that does not exist.
 */
@QuarkusTest
@IntegrationTest
class ScrapedMetricsTest {
    private static final Path RULES = Path.of("deploy/prometheus/alerts.yml");
    private static final Path DASHBOARD = Path.of("deploy/grafana/dashboards/continuum.json");

    private String scrape;

    @BeforeEach
    void scrapeAfterOneCompletion() {
        SharedTestData.require("models/stories260K.gguf");
        await().atMost(Duration.ofSeconds(60)).until(() -> given().get("/health").statusCode() == 200);
        given().contentType("application/json").body("{\"prompt\":\"Once upon a time\",\"max_tokens\":4}")
                .post("/v1/completions").then().statusCode(200);
        scrape = given().get("/metrics").then().statusCode(200).extract().asString();
    }

    /**
     * promtool exits 1 on a parse error and 3 on lint problems. The whole scrape must pass, library families
     * included: a scrape that lints is a scrape someone's tooling rejects, whoever named the metric.
     */
    @Test
    void scrapePassesPromtool() throws Exception {
        Promtool.Result all = Promtool.run(scrape, "check", "metrics");
        assertEquals(0, all.exitCode(), "promtool check metrics on the whole scrape:\n" + all.output());
    }

    @Test
    void alertRulesQueryOnlyScrapedMetrics() throws Exception {
        assertAllScraped(QueriedMetrics.inAlertRules(RULES), "alerts.yml");
    }

    @Test
    void dashboardQueriesOnlyScrapedMetrics() throws Exception {
        assertAllScraped(QueriedMetrics.inDashboard(DASHBOARD), "continuum.json");
    }

    private void assertAllScraped(Set<String> queried, String source) {
        assertTrue(queried.size() >= 4, source + " queries " + queried);
        Set<String> missing = new TreeSet<>(queried);
        missing.removeAll(QueriedMetrics.inScrape(scrape));
        assertTrue(missing.isEmpty(), source + " queries metrics the server does not expose: " + missing);
    }
}
