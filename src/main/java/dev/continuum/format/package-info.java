/**
 * What the packages that read model files share without depending on one another: {@code loader} parses the
 * files, {@code tensor} checks weight layouts and {@code tokenizer} checks vocabularies, and all three report a
 * file they cannot use with {@link dev.continuum.format.ModelFormatException}. A leaf: it imports nothing else
 * of Continuum's, so every package may import it without forming a cycle.
 */
package dev.continuum.format;
