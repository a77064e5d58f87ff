package dev.continuum;

import org.junit.jupiter.api.Tag;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Keeps a test class out of the unit lane ({@code ./continuum test-unit}, i.e. {@code ./mvnw -B test -Punit},
 * which excludes the tag {@value #TAG}): the class boots Quarkus, reads model files or other data under
 * {@code ../shared} ({@link SharedTestData}), starts a child process, or is too slow for the lane. The full suite
 * ({@code ./continuum test}) runs every test. {@code TestLanesTest} fails for a test class that boots Quarkus,
 * reaches {@link SharedTestData} or starts a process without this annotation.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Tag(IntegrationTest.TAG)
public @interface IntegrationTest {
    String TAG = "integration";
}
