//! The block/part planner: how a file is cut into the pieces each service takes,
//! within the service's documented limits, and how many pieces are in flight at
//! once so that memory stays bounded whatever the file's size.
//!
//! Limits:
//! - Azure block blobs: at most 50,000 blocks of at most 4,000 MiB each; a single
//!   Put Blob takes at most 5,000 MiB
//!   (<https://learn.microsoft.com/rest/api/storageservices/put-block>,
//!   <https://learn.microsoft.com/azure/storage/blobs/scalability-targets>).
//! - Amazon S3 multipart upload: at most 10,000 parts of 5 MiB to 5 GiB (the last
//!   part may be smaller); a single PutObject takes at most 5 GiB
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>).

use std::ops::Range;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// The storage services, as far as their limits go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    AzureBlob,
    S3,
}

impl Service {
    /// Most pieces one object can have.
    pub const fn max_parts(self) -> u64 {
        match self {
            Service::AzureBlob => 50_000,
            Service::S3 => 10_000,
        }
    }

    /// Largest piece.
    pub const fn max_part(self) -> u64 {
        match self {
            Service::AzureBlob => 4_000 * MIB,
            Service::S3 => 5 * GIB,
        }
    }

    /// Smallest piece but the last (Azure has none).
    pub const fn min_part(self) -> u64 {
        match self {
            Service::AzureBlob => 1,
            Service::S3 => 5 * MIB,
        }
    }

    /// Largest object one single request may write.
    pub const fn max_single(self) -> u64 {
        match self {
            Service::AzureBlob => 5_000 * MIB,
            Service::S3 => 5 * GIB,
        }
    }

    /// Largest object.
    pub const fn max_object(self) -> u64 {
        self.max_parts() * self.max_part()
    }

    /// The pieces' default size: small enough that a few in flight stay within
    /// the memory budget, large enough for throughput.
    pub const fn default_part(self) -> u64 {
        8 * MIB
    }
}

/// Memory the pieces in flight may take together (one piece more is being read
/// and one is waiting in the queue).
pub const MEMORY_BUDGET: u64 = 64 * MIB;

/// A file too large for the service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{size} bytes is more than one object can hold ({max} bytes in at most {parts} pieces of {part} bytes)")]
pub struct TooLarge {
    pub size: u64,
    pub max: u64,
    pub parts: u64,
    pub part: u64,
}

/// How one file is uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub service: Service,
    pub size: u64,
    /// Every piece but the last has this size.
    pub part_size: u64,
    pub parts: u64,
}

impl Plan {
    /// The plan for `size` bytes with pieces of `preferred` bytes (or the
    /// service's default), enlarged to MiB steps when the piece count would
    /// pass the service's limit.
    pub fn new(service: Service, size: u64, preferred: Option<u64>) -> Result<Self, TooLarge> {
        let too_large = || TooLarge {
            size,
            max: service.max_object(),
            parts: service.max_parts(),
            part: service.max_part(),
        };
        if size > service.max_object() {
            return Err(too_large());
        }
        let wanted = preferred
            .unwrap_or(service.default_part())
            .clamp(service.min_part(), service.max_part());
        let needed = size.div_ceil(service.max_parts()).div_ceil(MIB) * MIB;
        let part_size = wanted.max(needed).min(service.max_part());
        let parts = size.div_ceil(part_size).max(1);
        if parts > service.max_parts() {
            return Err(too_large());
        }
        Ok(Self {
            service,
            size,
            part_size,
            parts,
        })
    }

    /// One request (Put Blob / PutObject) rather than blocks or parts.
    pub fn single(&self) -> bool {
        self.parts == 1 && self.size <= self.service.max_single()
    }

    /// The byte range of piece `index` (0-based).
    pub fn range(&self, index: u64) -> Range<u64> {
        let start = index * self.part_size;
        start.min(self.size)..(start + self.part_size).min(self.size)
    }

    /// How many pieces may be uploading at once: `parallel`, fewer when the
    /// pieces are so large that they would pass [`MEMORY_BUDGET`] (never fewer
    /// than one).
    pub fn in_flight(&self, parallel: usize) -> usize {
        let fit = (MEMORY_BUDGET / self.part_size.max(1)).max(1) as usize;
        parallel.clamp(1, fit.max(1))
    }

    /// The most bytes buffered at once: the pieces in flight, the one being
    /// read and the one queued.
    pub fn peak_buffer(&self, parallel: usize) -> u64 {
        (self.in_flight(parallel) as u64 + 2) * self.part_size.min(self.size.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte is in exactly one piece, in order, and every piece but the
    /// last is full (and, for S3, at least 5 MiB).
    fn assert_covers(plan: &Plan) {
        let mut next = 0;
        for i in 0..plan.parts {
            let r = plan.range(i);
            assert_eq!(r.start, next, "piece {i} of {plan:?}");
            assert!(r.end > r.start || plan.size == 0, "piece {i} is empty");
            assert!(r.end - r.start <= plan.service.max_part());
            if i + 1 < plan.parts {
                assert_eq!(r.end - r.start, plan.part_size);
                assert!(r.end - r.start >= plan.service.min_part());
            }
            next = r.end;
        }
        assert_eq!(next, plan.size);
        assert!(plan.parts <= plan.service.max_parts());
    }

    #[test]
    fn small_files_are_one_request() {
        for service in [Service::AzureBlob, Service::S3] {
            for size in [0, 1, 4096, 8 * MIB] {
                let p = Plan::new(service, size, None).unwrap();
                assert!(p.single(), "{p:?}");
                assert_covers(&p);
            }
            let p = Plan::new(service, 8 * MIB + 1, None).unwrap();
            assert_eq!(p.parts, 2);
            assert!(!p.single());
            assert_covers(&p);
        }
    }

    #[test]
    fn tens_of_gigabytes_keep_the_default_piece_size_when_they_fit() {
        // 40 GiB: 5,120 pieces of 8 MiB, within both limits.
        for service in [Service::AzureBlob, Service::S3] {
            let p = Plan::new(service, 40 * GIB, None).unwrap();
            assert_eq!((p.part_size, p.parts), (8 * MIB, 5_120));
            assert_covers(&p);
        }
    }

    #[test]
    fn s3_grows_parts_to_stay_within_10000() {
        // 100 GiB in 8 MiB parts would be 12,800 parts.
        let p = Plan::new(Service::S3, 100 * GIB, None).unwrap();
        assert_eq!(p.part_size, 11 * MIB);
        assert!(p.parts <= 10_000);
        assert_covers(&p);
        // Exactly 10,000 full parts.
        let p = Plan::new(Service::S3, 10_000 * 8 * MIB, None).unwrap();
        assert_eq!((p.part_size, p.parts), (8 * MIB, 10_000));
        assert_covers(&p);
        // One byte more needs larger parts.
        let p = Plan::new(Service::S3, 10_000 * 8 * MIB + 1, None).unwrap();
        assert_eq!((p.part_size, p.parts), (9 * MIB, 8_889));
        assert_covers(&p);
    }

    #[test]
    fn azure_reaches_50000_blocks_then_grows_them() {
        let p = Plan::new(Service::AzureBlob, 50_000 * 8 * MIB, None).unwrap();
        assert_eq!((p.part_size, p.parts), (8 * MIB, 50_000));
        assert_covers(&p);
        let p = Plan::new(Service::AzureBlob, 50_000 * 8 * MIB + 1, None).unwrap();
        assert_eq!(p.part_size, 9 * MIB);
        assert!(p.parts <= 50_000);
        assert_covers(&p);
        // Small requested blocks: 1 MiB blocks reach 50,000 at 48.8 GiB.
        let p = Plan::new(Service::AzureBlob, 50_000 * MIB, Some(MIB)).unwrap();
        assert_eq!(p.parts, 50_000);
        assert_covers(&p);
    }

    #[test]
    fn the_largest_objects_fit_and_one_byte_more_does_not() {
        for service in [Service::AzureBlob, Service::S3] {
            let max = service.max_object();
            let p = Plan::new(service, max, None).unwrap();
            assert_eq!(p.part_size, service.max_part());
            assert_eq!(p.parts, service.max_parts());
            assert_covers(&p);
            let err = Plan::new(service, max + 1, None).unwrap_err();
            assert_eq!(err.size, max + 1);
            assert!(err.to_string().contains("more than one object can hold"));
        }
    }

    #[test]
    fn s3_parts_are_never_below_5_mib() {
        let p = Plan::new(Service::S3, 12 * MIB, Some(MIB)).unwrap();
        assert_eq!((p.part_size, p.parts), (5 * MIB, 3));
        assert_covers(&p);
        // Azure takes small blocks as asked.
        let p = Plan::new(Service::AzureBlob, 3 * MIB + 5, Some(MIB)).unwrap();
        assert_eq!(p.parts, 4);
        assert_covers(&p);
    }

    #[test]
    fn memory_stays_bounded_for_huge_files() {
        // 5 GiB at the default: 4 in flight, 48 MiB buffered at most.
        let p = Plan::new(Service::AzureBlob, 5 * GIB, None).unwrap();
        assert_eq!(p.in_flight(4), 4);
        assert_eq!(p.peak_buffer(4), 48 * MIB);
        // A 40 TiB object on S3 needs 4,195 MiB parts: one at a time.
        let p = Plan::new(Service::S3, 40 << 40, None).unwrap();
        assert_eq!(p.in_flight(8), 1);
        assert_covers(&p);
        // Parallelism asked for beyond the budget is reduced.
        let p = Plan::new(Service::S3, 100 * GIB, Some(32 * MIB)).unwrap();
        assert_eq!(p.in_flight(16), 2);
        assert_eq!(p.in_flight(0), 1);
    }
}
