package io.kvcache.cli;

import io.kvcache.core.eval.KvQuality;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;

import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** kv-quality.png: per model, mean KL and top-1 agreement against memory ratio, one series per policy. */
final class QualityChart {
    /** Where a KL of 0 is drawn: a log axis has no 0, and the full cache's point should still show. */
    static final double KL_FLOOR = 1e-6;
    private static final int WIDTH = 960;
    private static final int HEIGHT = 520;
    /**
     * One clearly visible colour per series in {@link KvSweep} order (XChart's own palette has pale
     * pinks and greys); the two adaptive and the two mixed-precision series in related shades.
     */
    private static final Color[] COLOURS = {
        new Color(0x000000), new Color(0xF28E2B), new Color(0x4E79A7), new Color(0x59A14F), new Color(0x1B5E20),
        new Color(0xB07AA1), new Color(0x6A3D9A), new Color(0xE15759), new Color(0x9C755F)};

    private QualityChart() {
    }

    static void write(List<ModelQuality> results, Path png) throws IOException {
        // set before the first AWT class loads: the report runs on servers and in tests without a display
        System.setProperty("java.awt.headless", "true");
        List<XYChart> charts = new ArrayList<>();
        for (ModelQuality result : results) {
            XYChart kl = chart(result.label() + ": mean KL(full || policy)", "mean KL, nats (log)");
            kl.getStyler().setYAxisLogarithmic(true);
            addSeries(kl, result, r -> Math.max(KL_FLOOR, r.meanKl()));
            charts.add(kl);
            XYChart top1 = chart(result.label() + ": top-1 agreement with the full cache", "top-1 agreement");
            addSeries(top1, result, KvQuality.Report::top1Agreement);
            charts.add(top1);
        }
        try (OutputStream out = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(charts, results.size(), 2, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    private static XYChart chart(String title, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("memory ratio (bytes held / full cache)").yAxisTitle(yTitle).build();
        XYStyler styler = chart.getStyler();
        styler.setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        styler.setXAxisMin(0.0);
        styler.setSeriesColors(COLOURS);
        styler.setLegendPosition(Styler.LegendPosition.OutsideE);
        return chart;
    }

    private static void addSeries(XYChart chart, ModelQuality result, ToDoubleFunction<KvQuality.Report> quality) {
        for (String series : KvSweep.POINTS.stream().map(KvSweep.Point::series).distinct().toList()) {
            List<KvQuality.Report> reports = result.rows().stream().filter(r -> r.point().series().equals(series))
                    .map(ModelQuality.Row::report).sorted(Comparator.comparingDouble(KvQuality.Report::memoryRatio)).toList();
            chart.addSeries(series, reports.stream().mapToDouble(KvQuality.Report::memoryRatio).toArray(),
                    reports.stream().mapToDouble(quality).toArray());
        }
    }
}
