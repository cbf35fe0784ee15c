package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strings"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/registry"
)

// Registry is the ministry registry kept by the monitor (regsvc.Service): the
// entries (one YAML file per centre), their change log and the signed bundles.
type Registry interface {
	// Centres lists the centres with an entry file.
	Centres() ([]string, error)
	// Source returns a centre's entry file; an fs.ErrNotExist error when none.
	Source(centre string) ([]byte, error)
	// Draft is the text an edit starts from (the version raised past the signed one).
	Draft(centre string) ([]byte, error)
	// Save validates and writes a new entry, logging the change; region is the
	// editor's region ("" for the ministry). Problems with the entry come as an
	// error with an EntryProblems() []string method.
	Save(centre, user, region string, src []byte) (*store.RegistryChange, error)
	// Changes are a centre's logged changes, newest first.
	Changes(centre string) ([]store.RegistryChange, error)
	// Signed lists the signed bundles per centre, by version ascending.
	Signed() map[string][]store.SignedBundle
	// Problems names the bundle files refused (bad signature, another key…).
	Problems() []string
	// Entries are the entries of the signed bundles in force, one per centre.
	Entries() []*registry.Entry
}

// RegistryRow is one centre on the registry page.
type RegistryRow struct {
	Info        store.CentreInfo
	HasEntry    bool
	FileVersion int64 // the entry file's version (0: none or invalid)
	Signed      store.SignedBundle
	HasSigned   bool
	Awaiting    bool // the file's version is above the latest signed
	Gateway     store.GatewayState
}

// VersionCount is how many gateways run one registry version.
type VersionCount struct {
	Label string // "v3", "unrated", "not reported"
	Count int
}

// RegistryData is the registry page's content (the fleet's rollout).
type RegistryData struct {
	Rows     []RegistryRow
	Versions []VersionCount
	Problems []string
}

// RegistryCentreData is a centre's registry page.
type RegistryCentreData struct {
	RegistryRow
	Entry      *registry.Entry
	EntryError string
	Text       string // the form's text: the draft, or what was submitted
	Errors     []string
	Saved      *store.RegistryChange
	Changes    []store.RegistryChange
	CanEdit    bool
}

// registryCentre resolves a centre for the registry pages: the monitor's list,
// else the entry's own centre section. ok is false when unknown or not the
// user's region (alike, as on the centre page).
func (s *Server) registryCentre(u *User, id string) (info store.CentreInfo, src []byte, e *registry.Entry, perr error, ok bool) {
	if !store.ValidID(id) || len(id) > 128 {
		return info, nil, nil, nil, false
	}
	src, err := s.opt.Registry.Source(id)
	if err == nil {
		e, perr = registry.Parse(id+".yaml", src)
	} else if !errors.Is(err, fs.ErrNotExist) {
		perr = err
	}
	info, known := s.byID[id]
	if !known {
		if e == nil {
			return info, nil, nil, nil, false
		}
		info = store.NewCentre(id, e.Centre.Name, e.Centre.Region, s.opt.Loc)
	}
	return info, src, e, perr, u.Role == RoleMinistry || strings.EqualFold(info.Region, u.Region)
}

func (s *Server) registryRow(info store.CentreInfo, e *registry.Entry, hasEntry bool, signed map[string][]store.SignedBundle, gw map[string]store.GatewayState) RegistryRow {
	r := RegistryRow{Info: info, HasEntry: hasEntry, Gateway: gw[info.ID]}
	if e != nil {
		r.FileVersion = e.Version
	}
	if list := signed[info.ID]; len(list) > 0 {
		r.Signed, r.HasSigned = list[len(list)-1], true
	}
	r.Awaiting = r.FileVersion > r.Signed.Version
	return r
}

func (s *Server) registryList(w http.ResponseWriter, r *http.Request, ss *session) {
	u := ss.User
	signed := s.opt.Registry.Signed()
	gw := s.watch.States()
	ids := map[string]bool{}
	for _, c := range s.opt.Centres {
		ids[c.ID] = true
	}
	files, err := s.opt.Registry.Centres()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, id := range files {
		ids[id] = true
	}
	for id := range signed {
		ids[id] = true
	}
	var d RegistryData
	counts := map[string]int{}
	for id := range ids {
		info, src, e, _, ok := s.registryCentre(u, id)
		if !ok {
			if _, known := s.byID[id]; known || u.Role != RoleMinistry {
				continue
			}
			info = store.NewCentre(id, id, "", s.opt.Loc) // a signed bundle without entry or centre
		}
		row := s.registryRow(info, e, src != nil, signed, gw)
		d.Rows = append(d.Rows, row)
		g := row.Gateway
		switch {
		case g.LastSeen.IsZero() && !g.Registry.Reported:
		case !g.Registry.Reported:
			counts["not reported"]++
		case g.Registry.Version == 0:
			counts["unrated"]++
		default:
			counts[fmt.Sprintf("v%d", g.Registry.Version)]++
		}
	}
	sort.Slice(d.Rows, func(i, j int) bool { return d.Rows[i].Info.ID < d.Rows[j].Info.ID })
	for k, n := range counts {
		d.Versions = append(d.Versions, VersionCount{Label: k, Count: n})
	}
	sort.Slice(d.Versions, func(i, j int) bool { return d.Versions[i].Label < d.Versions[j].Label })
	if u.Role == RoleMinistry {
		d.Problems = s.opt.Registry.Problems()
	}
	s.render(w, r, "registry.html", s.newPage(w, r, ss, "registry", &d))
}

func (s *Server) registryPage(w http.ResponseWriter, r *http.Request, ss *session) {
	id := r.PathValue("id")
	info, src, e, perr, ok := s.registryCentre(ss.User, id)
	if !ok {
		p := s.newPage(w, r, ss, "not.found", nil)
		p.Status, p.Error = http.StatusNotFound, tr(p.Lang, "not.found")
		s.render(w, r, "error.html", p)
		return
	}
	d := &RegistryCentreData{RegistryRow: s.registryRow(info, e, src != nil, s.opt.Registry.Signed(), s.watch.States()), Entry: e, CanEdit: true}
	if perr != nil {
		d.EntryError = perr.Error()
	}
	status := 0
	if r.Method == http.MethodPost {
		text := r.PostFormValue("entry")
		region := ""
		if ss.User.Role == RoleRegion {
			region = ss.User.Region
		}
		ch, err := s.opt.Registry.Save(id, ss.User.Name, region, []byte(text))
		var pe interface{ EntryProblems() []string }
		switch {
		case errors.As(err, &pe):
			d.Errors, d.Text, status = pe.EntryProblems(), text, http.StatusUnprocessableEntity
		case err != nil:
			s.log.Error("registry save", "centre", id, "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		default:
			if ch == nil {
				ch = &store.RegistryChange{Centre: id}
			}
			d.Saved = ch
			s.log.Info("registry entry edited", "centre", id, "user", ss.User.Name, "to", ch.To)
			src, _ = s.opt.Registry.Source(id)
			d.Entry, _ = registry.Parse(id+".yaml", src)
			d.EntryError = ""
			d.RegistryRow = s.registryRow(info, d.Entry, true, s.opt.Registry.Signed(), s.watch.States())
		}
	}
	if d.Text == "" {
		draft, err := s.opt.Registry.Draft(id)
		if err == nil {
			d.Text = string(draft)
		}
	}
	var err error
	d.Changes, err = s.opt.Registry.Changes(id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p := s.newPage(w, r, ss, "registry", d)
	p.Status = status
	s.render(w, r, "registry_centre.html", p)
}
