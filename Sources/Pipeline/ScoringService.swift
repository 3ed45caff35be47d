import ServiceLifecycle

/// The pipeline as a swift-service-lifecycle `Service`: `run` starts it, turns the group's
/// graceful shutdown into `requestStop`, and returns when the shutdown sequence finished.
///
/// It never blocks the cooperative pool: the pipeline runs on its own threads and this task
/// only sleeps between looks at its state.
public struct ScoringService: Service {
    public let pipeline: ScoringPipeline

    public init(pipeline: ScoringPipeline) {
        self.pipeline = pipeline
    }

    /// - Throws: `PipelineError` when the run ended in failure (delivery refused, fatal
    ///   client error, shutdown timeout).
    public func run() async throws {
        try pipeline.start()
        let pipeline = self.pipeline
        await withGracefulShutdownHandler {
            while !pipeline.isStopping {
                if Task.isCancelled { pipeline.requestStop(reason: "cancelled") }
                try? await Task.sleep(for: .milliseconds(50))
            }
        } onGracefulShutdown: {
            pipeline.requestStop(reason: "shutdown signal")
        }
        while pipeline.outcome == nil {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if case .failed(let error) = pipeline.outcome { throw error }
    }
}
