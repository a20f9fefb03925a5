package indicator

import "context"

// The indicators computed from the monthly stream records of general
// industrial solid waste, sewage sludge and construction waste
// (internal/streams/industrial, sludge, construction), as streamRate sums
// them.

var (
	// giswRate is 一般工业固体废物综合利用率: utilised ÷ (generated + prior
	// years' stock utilised) × 100, summed over the generators' monthly
	// ledgers (二(一), the national ledger guideline's formula).
	giswRate = streamRate{table: "gisw_ledgers", entity: "stream_gisw_ledger",
		num: "util_materials_g + util_backfill_g + util_restoration_g + util_kiln_g + util_other_g",
		den: "generated_g + util_prior_g", ref: streamMonth + " || ' ' || category",
		numLabel: "综合利用量（吨）", denLabel: "产生量 + 综合利用往年贮存量（吨）"}
	// sludgeRate is 城市污泥无害化利用处置率: sludge incinerated, used in
	// building materials or on land, or landfilled sanitarily ÷ sludge
	// generated × 100, both at 80 % moisture, from the plants' months.
	sludgeRate = streamRate{table: "sludge_ledgers", entity: "stream_sludge_ledger",
		num: "incinerated_g + materials_g + land_g + landfill_g", den: "generated_g", ref: streamMonth,
		numLabel: "无害化利用处置量（吨，含水率 80%）", denLabel: "污泥产生量（吨，含水率 80%）"}
	// cdwRate is 建筑垃圾资源化利用率: recycled ÷ received at the disposal and
	// recycling sites × 100, from the sites' months; what the sites receive
	// stands for what is generated, since every licensed haul ends at one.
	cdwRate = streamRate{table: "cdw_site_months", entity: "stream_cdw_site_month", num: "recycled_g", den: "received_g",
		ref: "site || ' ' || " + streamMonth, numLabel: "资源化利用量（吨）", denLabel: "建筑垃圾产生量（消纳和利用场所进场量，吨）"}
)

func giswUtilisation(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	return giswRate.compute(ctx, k, a, p, drill)
}

func sludgeSafe(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	return sludgeRate.compute(ctx, k, a, p, drill)
}

func cdwRecycling(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	return cdwRate.compute(ctx, k, a, p, drill)
}
