import ArgumentParser
import Features
import Foundation
import Inference
import Pipeline
import RedisBridge
import ScoreCache

/// `streamscore bench cache`: what the score cache costs and saves per event, one thread.
struct CacheBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Time the score cache's steps on one thread: key making, and scoring with the in-process tier against the model alone.",
        discussion: """
            The end-to-end benchmark (bench e2e) measures whole drains, where broker, worker and \
            consumer share the cores and runs spread by ±13%; a cache that saves a few percent \
            cannot show there. This measures only the steps the cache changes, quietly: \
            generated events at each repeated-key ratio are decoded in batches as the pipeline \
            does, without keys (a worker without a cache) and with them (a hash of the row, or \
            cache.key_fields when the configuration names some); then \
            each batch is scored by the model alone and by the batcher's cache step (in-batch \
            deduplication, the in-process tier, the model on the misses). A run is one pass over \
            all batches with an empty cache. The two sides of each comparison alternate chunk \
            by chunk, so they see the same machine; each figure is the fastest of --runs runs \
            (interference only adds time), in ns per event. Redis is not involved (bench e2e \
            --cache redis measures it).

            net = (decode with keys - decode) + (cache step - model): what the cache adds per \
            event; negative means it saves.

            Examples:
              streamscore bench cache Models/bench/fraud-mlp.json Models/bench/fraud-xgb.json
              streamscore bench cache Models/fraud-xgb.json --repeats 0,0.5,0.9 --batch 1024 --json
              streamscore bench cache Models/bench/fraud-mlp.json --config fields.yaml   # key_fields: [card_id, merchant, amount]
            """
    )

    @Argument(help: ArgumentHelp("Model files (their inputs must match the feature spec).", valueName: "model"))
    var files: [String]

    @Option(help: ArgumentHelp("Configuration file for the feature spec and cache.key_fields (default: built-in defaults: row keys).", valueName: "file"))
    var config: String?

    @Option(help: "Events per pass.")
    var events = 100_000

    @Option(help: ArgumentHelp("Rows per batch (batch.max_rows).", valueName: "rows"))
    var batch = 256

    @Option(help: ArgumentHelp("Repeated-key ratios, comma-separated.", valueName: "r,r"))
    var repeats = "0,0.5,0.9"

    @Option(help: "Timed passes (the fastest is reported for each step).")
    var runs = 9

    @Flag(help: "Print a JSON array of results (ns per event).")
    var json = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one model file") }
        guard events > 0 else { throw ValidationError("--events: must be positive") }
        guard batch > 0 else { throw ValidationError("--batch: must be positive") }
        guard runs > 0 else { throw ValidationError("--runs: must be positive") }
        guard parsedRepeats != nil else { throw ValidationError("--repeats: ratios within 0...1, comma-separated") }
    }

    private var parsedRepeats: [Double]? {
        let items = repeats.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !items.isEmpty, items.allSatisfy({ $0.map { (0...1).contains($0) } ?? false }) else { return nil }
        return items.map { $0! }
    }

    func run() throws {
        var spec: FeatureSpec
        var cache: ScoreCacheConfiguration
        do {
            let loader = try ConfigLoader(path: config)
            spec = try Settings.features(loader)
            spec.keyFields = try loader.list("cache.key_fields")
            cache = try Settings.cache(loader) ?? .init()
        } catch {
            Terminal.err("streamscore: \(error)")
            throw ExitCode(2)
        }
        cache.redis = nil
        let inputs: Int
        do {
            inputs = try EventDecoder(spec: spec).inputCount
        } catch {
            Terminal.err("streamscore: cache.\(error.path): \(error.reason)")
            throw ExitCode(2)
        }
        var models: [(name: String, model: any Model)] = []
        for file in files {
            let model = try ModelCommand.load(file, .auto)
            guard model.inputCount == inputs else {
                Terminal.err("streamscore: \(file): the model takes \(model.inputCount) inputs; the feature spec makes \(inputs) (give its spec with --config)")
                throw ExitCode(2)
            }
            models.append((URL(fileURLWithPath: file).lastPathComponent, model))
        }
        var rows: [String] = []
        if !json {
            print("\(events) events per pass, batches of \(batch), 1 thread; ns per event, fastest of \(runs) passes")
            print("model                      repeats  decode  +keys   model  cache+model   net  in-batch repeats / hits / misses")
        }
        for (name, model) in models {
            var bench = CacheBenchmark(model: model, spec: spec)
            (bench.events, bench.batchRows, bench.runs, bench.cache) = (events, batch, runs, cache)
            for ratio in parsedRepeats! {
                let r = try bench.measure(repeatRatio: ratio)
                if json {
                    rows.append(
                        "{\"model\":\"\(name)\",\"repeats\":\(ratio),\"decode_ns\":\(r.decodeNanos),\"decode_with_key_ns\":\(r.decodeWithKeyNanos),"
                            + "\"model_ns\":\(r.modelNanos),\"cached_ns\":\(r.cachedNanos),\"net_ns\":\(r.netNanos),"
                            + "\"batch_duplicates\":\(r.batchDuplicates),\"hits\":\(r.hits),\"misses\":\(r.misses)}")
                } else {
                    print(
                        name.padding(toLength: 26, withPad: " ", startingAt: 0)
                            + String(
                                format: " %6.0f%% %7.0f %6.0f %7.0f %12.0f %+5.0f  %d / %d / %d", ratio * 100, r.decodeNanos,
                                r.decodeWithKeyNanos - r.decodeNanos, r.modelNanos, r.cachedNanos, r.netNanos, r.batchDuplicates, r.hits,
                                r.misses))
                }
            }
        }
        if json { print("[" + rows.joined(separator: ",") + "]") }
    }
}
