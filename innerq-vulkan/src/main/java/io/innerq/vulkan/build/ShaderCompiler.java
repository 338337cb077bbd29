package io.innerq.vulkan.build;


import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.lwjgl.util.shaderc.Shaderc.*;

/**
 * Build step: compiles every {@code *.comp} GLSL compute shader of a folder to SPIR-V ({@code NAME.spv}) with LWJGL's
 * shaderc, so no system compiler is needed. {@code #include "file.glsl"} is resolved here, relative to the folder.
 * Shapes, bit widths and modes are specialization constants: one module serves every variant.
 *
 * <p>Usage: {@code ShaderCompiler <glsl folder> <output folder>}.
 */
public final class ShaderCompiler {

    private static final Pattern INCLUDE = Pattern.compile("^#include \"([\\w.]+)\"\\s*$", Pattern.MULTILINE);

    private ShaderCompiler() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: ShaderCompiler <glsl folder> <output folder>");
        }
        Path source = Path.of(args[0]);
        Path target = Path.of(args[1]);
        Files.createDirectories(target);
        List<Path> shaders;
        try (var files = Files.list(source)) {
            shaders = files.filter(p -> p.toString().endsWith(".comp")).sorted().toList();
        }
        long compiler = shaderc_compiler_initialize();
        long options = shaderc_compile_options_initialize();
        try {
            shaderc_compile_options_set_target_env(options, shaderc_target_env_vulkan, shaderc_env_version_vulkan_1_2);
            shaderc_compile_options_set_optimization_level(options, shaderc_optimization_level_performance);
            shaderc_compile_options_set_warnings_as_errors(options);
            int failed = 0;
            for (Path shader : shaders) {
                String name = shader.getFileName().toString().replace(".comp", "");
                String glsl = expand(shader, new HashSet<>());
                long result = shaderc_compile_into_spv(compiler, glsl, shaderc_glsl_compute_shader, shader.getFileName().toString(), "main", options);
                try {
                    if (shaderc_result_get_compilation_status(result) != shaderc_compilation_status_success) {
                        System.err.println(shader + ": " + shaderc_result_get_error_message(result));
                        failed++;
                        continue;
                    }
                    ByteBuffer spv = shaderc_result_get_bytes(result);
                    try (FileChannel out = FileChannel.open(target.resolve(name + ".spv"),
                            StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                        while (spv.hasRemaining()) {
                            out.write(spv);
                        }
                    }
                } finally {
                    shaderc_result_release(result);
                }
            }
            if (failed > 0) {
                throw new IllegalStateException(failed + " shader(s) failed to compile; see the messages above");
            }
            System.out.printf("compiled %d shaders to %s%n", shaders.size(), target);
        } finally {
            shaderc_compile_options_release(options);
            shaderc_compiler_release(compiler);
        }
    }

    /** The shader's text with its includes inlined (each file once), and #line directives for messages. */
    static String expand(Path file, Set<Path> seen) {
        if (!seen.add(file.toAbsolutePath().normalize())) {
            return "";
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read shader source " + file, e);
        }
        Matcher m = INCLUDE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Path included = file.resolveSibling(m.group(1));
            if (!Files.exists(included)) {
                throw new IllegalArgumentException(file + ": included file " + m.group(1) + " not found");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(expand(included, seen)));
        }
        m.appendTail(out);
        return out.toString();
    }
}
