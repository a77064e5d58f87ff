package dev.continuum;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.commons.annotation.Testable;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;
import org.junit.platform.commons.support.ReflectionSupport;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.constantpool.MemberRefEntry;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.StringEntry;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The unit lane stays hermetic as tests are added: every test class that boots Quarkus, reads ../shared
 * (through {@link SharedTestData}, a helper such as a model harness, or by its own path) or starts a child process
 * is marked {@link IntegrationTest}, which the unit lane excludes. Found from the compiled test classes: a Quarkus
 * JUnit extension among their annotations, and the classes and strings each refers to, followed through the other
 * test classes. A helper that can reach ../shared marks every test using it, even one that never does.
 */
class TestLanesTest {
    private static final String SHARED = internalName(SharedTestData.class);
    private static final Set<String> PROCESS = Set.of(internalName(ProcessBuilder.class));
    /** A class with one of these string constants finds ../shared itself, as SharedTestData does. */
    private static final List<String> SHARED_STRINGS = List.of("continuum.shared.dir", "../shared");

    /** Internal class name -> the test classes it refers to. */
    private static final Map<String, Set<String>> references = new HashMap<>();
    /** The test classes that start a process themselves (ProcessBuilder, Runtime.exec). */
    private static final Set<String> startProcesses = new HashSet<>();
    /** The test classes that locate ../shared themselves: SharedTestData, and any that bypasses it. */
    private static final Set<String> findShared = new HashSet<>(Set.of(SHARED));

    @BeforeAll
    static void scan() throws IOException, URISyntaxException {
        Path root = Path.of(TestLanesTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<ClassModel> models = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path file : walk.filter(p -> p.toString().endsWith(".class")).toList()) {
                models.add(ClassFile.of().parse(Files.readAllBytes(file)));
            }
        }
        for (ClassModel model : models) {
            references.put(model.thisClass().asInternalName(), new HashSet<>());
        }
        for (ClassModel model : models) {
            String name = model.thisClass().asInternalName();
            if (name.startsWith(internalName(TestLanesTest.class))) {
                continue; // names what it looks for, and uses none of it
            }
            for (PoolEntry entry : model.constantPool()) {
                if (entry instanceof ClassEntry c) {
                    String target = c.asInternalName();
                    if (PROCESS.contains(target)) {
                        startProcesses.add(name);
                    } else if (references.containsKey(target) && !target.equals(name)) {
                        references.get(name).add(target);
                    }
                } else if (entry instanceof MemberRefEntry m && m.owner().asInternalName().equals("java/lang/Runtime")
                        && m.name().equalsString("exec")) {
                    startProcesses.add(name);
                } else if (entry instanceof StringEntry string
                        && SHARED_STRINGS.stream().anyMatch(string.stringValue()::contains)) {
                    findShared.add(name);
                }
            }
        }
    }

    private static String internalName(Class<?> c) {
        return c.getName().replace('.', '/');
    }

    /** Why the test class must be marked {@link IntegrationTest}; empty when it may run in the unit lane. */
    private static List<String> reasons(Class<?> testClass) {
        List<String> reasons = new ArrayList<>();
        boolean quarkus = AnnotationSupport.findRepeatableAnnotations(testClass, ExtendWith.class).stream()
                .flatMap(e -> Arrays.stream(e.value())).anyMatch(x -> x.getName().startsWith("io.quarkus."));
        if (quarkus) {
            reasons.add("boots Quarkus");
        }
        List<String> toShared = path(internalName(testClass), findShared::contains);
        if (toShared != null) {
            reasons.add("reads ../shared via " + toShared);
        }
        List<String> toProcess = path(internalName(testClass), startProcesses::contains);
        if (toProcess != null) {
            reasons.add("starts a process via " + toProcess);
        }
        return reasons;
    }

    /** The shortest chain of references from a test class to a class that matches, or null. */
    private static List<String> path(String from, Predicate<String> to) {
        Map<String, String> parent = new LinkedHashMap<>();
        ArrayDeque<String> queue = new ArrayDeque<>(List.of(from));
        parent.put(from, null);
        while (!queue.isEmpty()) {
            String c = queue.poll();
            if (to.test(c)) {
                List<String> chain = new ArrayList<>();
                for (String x = c; x != null; x = parent.get(x)) {
                    chain.addFirst(x.substring(x.lastIndexOf('/') + 1));
                }
                return chain;
            }
            for (String next : references.getOrDefault(c, Set.of())) {
                if (!parent.containsKey(next)) {
                    parent.put(next, c);
                    queue.add(next);
                }
            }
        }
        return null;
    }

    private static boolean integration(Class<?> c) {
        // A @Nested class has its enclosing class's tags.
        for (Class<?> x = c; x != null; x = AnnotationSupport.isAnnotated(x, Nested.class) ? x.getEnclosingClass()
                : null) {
            if (AnnotationSupport.findRepeatableAnnotations(x, Tag.class).stream()
                    .anyMatch(t -> t.value().equals(IntegrationTest.TAG))) {
                return true;
            }
        }
        return false;
    }

    /** The classes with test methods, loaded (not initialised) from the compiled test classes. */
    private static List<Class<?>> testClasses() throws ClassNotFoundException {
        List<Class<?>> classes = new ArrayList<>();
        for (String name : references.keySet()) {
            Class<?> c = Class.forName(name.replace('/', '.'), false, TestLanesTest.class.getClassLoader());
            if (!Modifier.isAbstract(c.getModifiers()) && !ReflectionSupport.findMethods(c,
                    m -> AnnotationSupport.isAnnotated(m, Testable.class), HierarchyTraversalMode.TOP_DOWN).isEmpty()) {
                classes.add(c);
            }
        }
        return classes;
    }

    @Test
    void everyTestThatLeavesTheJvmOrBootsQuarkusIsMarkedIntegration() throws ClassNotFoundException {
        Map<String, List<String>> unmarked = new TreeMap<>();
        Set<String> reasonsSeen = new HashSet<>();
        int tests = 0;
        for (Class<?> c : testClasses()) {
            tests++;
            List<String> reasons = reasons(c);
            reasons.forEach(r -> reasonsSeen.add(r.split(" via ")[0]));
            if (!reasons.isEmpty() && !integration(c)) {
                unmarked.put(c.getName(), reasons);
            }
        }
        assertTrue(unmarked.isEmpty(), "add @" + IntegrationTest.class.getSimpleName() + " to " + unmarked);
        // The detectors see the suite's known kinds: not vacuous.
        assertTrue(tests > 30, tests + " test classes");
        assertTrue(reasonsSeen.containsAll(List.of("boots Quarkus", "reads ../shared", "starts a process")),
                reasonsSeen.toString());
    }

    @Test
    void theUnitLaneExcludesTheTag() throws IOException, ClassNotFoundException {
        String pom = Files.readString(Path.of("pom.xml"));
        int profile = pom.indexOf("<id>unit</id>");
        assertTrue(profile > 0, "a unit profile in pom.xml");
        assertTrue(pom.indexOf("<excludedGroups>" + IntegrationTest.TAG + "</excludedGroups>", profile) > profile,
                "the unit profile excludes " + IntegrationTest.TAG);
        assertTrue(Files.readString(Path.of("continuum"))
                .contains("test-unit) shift; cd \"$here\" && exec ./mvnw -B test -Punit \"$@\" ;;"),
                "./continuum test-unit runs the unit profile");
        // And the lane keeps most of the tests.
        long unit = testClasses().stream().filter(c -> !integration(c)).count();
        assertFalse(unit < 20, unit + " test classes in the unit lane");
    }
}
